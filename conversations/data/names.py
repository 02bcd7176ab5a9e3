"""Common given names in Chile, lower-case and without accents.

`extract_fields` uses them only to accept a lower-case name after a weak introduction
("soy juan", "habla cami"): a capitalised word needs no list, and "me llamo" needs none.
"""

FIRST_NAMES: frozenset[str] = frozenset("""
adolfo adriana adrian agustin agustina alan alberto alejandra alejandro alexis alfonso alfredo alicia alondra
alvaro amanda ana andrea andres angela angelica anita antonella antonia antonio ariel armando arturo aurora
barbara beatriz benjamin bernardita bernardo blanca boris bruno camila cami carla carlos carmen carolina
catalina cata cecilia celeste cesar christian cristian cristina cristobal clara claudia claudio constanza
coni cote daniel daniela dario david debora diego dominga domingo eduardo elena elias elisa eliana emilia
emilio enrique esteban estefania eugenio eva fabian fabiola felipe fernanda fernando florencia francisca
francisco franco gabriel gabriela gaspar gerardo german gloria gonzalo graciela guillermo gustavo hector
hernan hugo ignacia ignacio ines ingrid irene isabel isidora ismael ivan ivonne jaime javiera javier jessica
joaquin joaquina jorge jose josefa josefina juan juana julia julian julio karen karina katherine kevin
laura leonardo leticia lidia lorena lorenzo lucas lucia luciano luis luisa macarena magdalena manuel
manuela marcela marcelo marco marcos margarita maria mariana marisol marta martin martina mateo matias
mauricio maximiliano max mercedes miguel milagros mirna monica nancy natalia nelson nicolas nicole noelia
norma octavio olga oscar pablo paola pamela pancho pascual patricia patricio paula paulina pedro pia
rafael rafaela ramon raul rebeca renata rene ricardo roberto rocio rodrigo rolando romina rosa rosario
ruben sandra santiago sara sebastian sergio silvia simon sofia soledad susana tamara teresa tomas
trinidad ursula valentina valeria vanessa veronica vicente victor victoria violeta ximena yasna yolanda
""".split())
