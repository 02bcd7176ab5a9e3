"""Chile's 346 comunas by region, with the spellings leads actually type.

Names are the canonical spelling (with accents) that `extract_fields` returns. Matching is
accent- and case-insensitive on whole words, so "Nunoa", "ñuñoa" and "NUÑOA" all need no alias.

Some comunas are also everyday words or people's names; `extract_fields` accepts those only
when the text points at a place:
- COMMON_WORD: accepted after a location cue ("en", "de", "comuna de", ...) or when written
  with a capital letter ("Independencia", "La Reina", "Primavera", "Tomé"/"tomé", ...).
- PLACE_PHRASE_ONLY: seasons, holidays and abstract nouns ("Navidad", "Primavera", ...):
  accepted only in an explicit place phrase ("vivo en", "comuna de", "busco en", "soy de", ...).
- PERSON_LIKE: first names and surnames ("Victoria", "Castro", "Pinto", ...): accepted only
  after a location cue, since a capital letter is no evidence for them.
"""

COMUNAS_BY_REGION: dict[str, tuple[str, ...]] = {
    "Arica y Parinacota": ("Arica", "Camarones", "Putre", "General Lagos"),
    "Tarapacá": ("Iquique", "Alto Hospicio", "Pozo Almonte", "Camiña", "Colchane", "Huara", "Pica"),
    "Antofagasta": (
        "Antofagasta", "Mejillones", "Sierra Gorda", "Taltal", "Calama", "Ollagüe", "San Pedro de Atacama",
        "Tocopilla", "María Elena",
    ),
    "Atacama": (
        "Copiapó", "Caldera", "Tierra Amarilla", "Chañaral", "Diego de Almagro", "Vallenar", "Alto del Carmen",
        "Freirina", "Huasco",
    ),
    "Coquimbo": (
        "La Serena", "Coquimbo", "Andacollo", "La Higuera", "Paiguano", "Vicuña", "Illapel", "Canela", "Los Vilos",
        "Salamanca", "Ovalle", "Combarbalá", "Monte Patria", "Punitaqui", "Río Hurtado",
    ),
    "Valparaíso": (
        "Valparaíso", "Casablanca", "Concón", "Juan Fernández", "Puchuncaví", "Quintero", "Viña del Mar",
        "Isla de Pascua", "Los Andes", "Calle Larga", "Rinconada", "San Esteban", "La Ligua", "Cabildo", "Papudo",
        "Petorca", "Zapallar", "Quillota", "La Calera", "Hijuelas", "La Cruz", "Nogales", "San Antonio",
        "Algarrobo", "Cartagena", "El Quisco", "El Tabo", "Santo Domingo", "San Felipe", "Catemu", "Llaillay",
        "Panquehue", "Putaendo", "Santa María", "Quilpué", "Limache", "Olmué", "Villa Alemana",
    ),
    "Metropolitana de Santiago": (
        "Santiago", "Cerrillos", "Cerro Navia", "Conchalí", "El Bosque", "Estación Central", "Huechuraba",
        "Independencia", "La Cisterna", "La Florida", "La Granja", "La Pintana", "La Reina", "Las Condes",
        "Lo Barnechea", "Lo Espejo", "Lo Prado", "Macul", "Maipú", "Ñuñoa", "Pedro Aguirre Cerda", "Peñalolén",
        "Providencia", "Pudahuel", "Quilicura", "Quinta Normal", "Recoleta", "Renca", "San Joaquín", "San Miguel",
        "San Ramón", "Vitacura", "Puente Alto", "Pirque", "San José de Maipo", "Colina", "Lampa", "Tiltil",
        "San Bernardo", "Buin", "Calera de Tango", "Paine", "Melipilla", "Alhué", "Curacaví", "María Pinto",
        "San Pedro", "Talagante", "El Monte", "Isla de Maipo", "Padre Hurtado", "Peñaflor",
    ),
    "Libertador General Bernardo O'Higgins": (
        "Rancagua", "Codegua", "Coinco", "Coltauco", "Doñihue", "Graneros", "Las Cabras", "Machalí", "Malloa",
        "Mostazal", "Olivar", "Peumo", "Pichidegua", "Quinta de Tilcoco", "Rengo", "Requínoa", "San Vicente",
        "Pichilemu", "La Estrella", "Litueche", "Marchihue", "Navidad", "Paredones", "San Fernando", "Chépica",
        "Chimbarongo", "Lolol", "Nancagua", "Palmilla", "Peralillo", "Placilla", "Pumanque", "Santa Cruz",
    ),
    "Maule": (
        "Talca", "Constitución", "Curepto", "Empedrado", "Maule", "Pelarco", "Pencahue", "Río Claro",
        "San Clemente", "San Rafael", "Cauquenes", "Chanco", "Pelluhue", "Curicó", "Hualañé", "Licantén", "Molina",
        "Rauco", "Romeral", "Sagrada Familia", "Teno", "Vichuquén", "Linares", "Colbún", "Longaví", "Parral",
        "Retiro", "San Javier", "Villa Alegre", "Yerbas Buenas",
    ),
    "Ñuble": (
        "Chillán", "Bulnes", "Chillán Viejo", "El Carmen", "Pemuco", "Pinto", "Quillón", "San Ignacio", "Yungay",
        "Quirihue", "Cobquecura", "Coelemu", "Ninhue", "Portezuelo", "Ránquil", "Treguaco", "San Carlos",
        "Coihueco", "Ñiquén", "San Fabián", "San Nicolás",
    ),
    "Biobío": (
        "Concepción", "Coronel", "Chiguayante", "Florida", "Hualqui", "Lota", "Penco", "San Pedro de la Paz",
        "Santa Juana", "Talcahuano", "Tomé", "Hualpén", "Lebu", "Arauco", "Cañete", "Contulmo", "Curanilahue",
        "Los Álamos", "Tirúa", "Los Ángeles", "Antuco", "Cabrero", "Laja", "Mulchén", "Nacimiento", "Negrete",
        "Quilaco", "Quilleco", "San Rosendo", "Santa Bárbara", "Tucapel", "Yumbel", "Alto Biobío",
    ),
    "La Araucanía": (
        "Temuco", "Carahue", "Cholchol", "Cunco", "Curarrehue", "Freire", "Galvarino", "Gorbea", "Lautaro",
        "Loncoche", "Melipeuco", "Nueva Imperial", "Padre Las Casas", "Perquenco", "Pitrufquén", "Pucón", "Saavedra",
        "Teodoro Schmidt", "Toltén", "Vilcún", "Villarrica", "Angol", "Collipulli", "Curacautín", "Ercilla",
        "Lonquimay", "Los Sauces", "Lumaco", "Purén", "Renaico", "Traiguén", "Victoria",
    ),
    "Los Ríos": (
        "Valdivia", "Corral", "Lanco", "Los Lagos", "Máfil", "Mariquina", "Paillaco", "Panguipulli", "La Unión",
        "Futrono", "Lago Ranco", "Río Bueno",
    ),
    "Los Lagos": (
        "Puerto Montt", "Calbuco", "Cochamó", "Fresia", "Frutillar", "Los Muermos", "Llanquihue", "Maullín",
        "Puerto Varas", "Castro", "Ancud", "Chonchi", "Curaco de Vélez", "Dalcahue", "Puqueldón", "Queilén",
        "Quellón", "Quemchi", "Quinchao", "Osorno", "Puerto Octay", "Purranque", "Puyehue", "Río Negro",
        "San Juan de la Costa", "San Pablo", "Chaitén", "Futaleufú", "Hualaihué", "Palena",
    ),
    "Aysén del General Carlos Ibáñez del Campo": (
        "Coyhaique", "Lago Verde", "Aysén", "Cisnes", "Guaitecas", "Cochrane", "O'Higgins", "Tortel", "Chile Chico",
        "Río Ibáñez",
    ),
    "Magallanes y de la Antártica Chilena": (
        "Punta Arenas", "Laguna Blanca", "Río Verde", "San Gregorio", "Cabo de Hornos", "Antártica", "Porvenir",
        "Primavera", "Timaukel", "Natales", "Torres del Paine",
    ),
}

COMUNAS: tuple[str, ...] = tuple(name for names in COMUNAS_BY_REGION.values() for name in names)

# Short forms, old or alternative spellings, and well-known localities inside a comuna.
ALIASES: dict[str, str] = {
    "Stgo": "Santiago",
    "Stgo Centro": "Santiago",
    "Santiago Centro": "Santiago",
    "Conce": "Concepción",
    "Viña": "Viña del Mar",
    "Valpo": "Valparaíso",
    "PAC": "Pedro Aguirre Cerda",
    "P. Aguirre Cerda": "Pedro Aguirre Cerda",
    "Est. Central": "Estación Central",
    "Provi": "Providencia",
    "Pte Alto": "Puente Alto",
    "Pte. Alto": "Puente Alto",
    "Barnechea": "Lo Barnechea",
    "La Dehesa": "Lo Barnechea",
    "Chicureo": "Colina",
    "Reñaca": "Viña del Mar",
    "San Bdo": "San Bernardo",
    "Pto Montt": "Puerto Montt",
    "Pto. Montt": "Puerto Montt",
    "Pto Varas": "Puerto Varas",
    "Pto. Varas": "Puerto Varas",
    "Pto Octay": "Puerto Octay",
    "Calera": "La Calera",
    "Llay Llay": "Llaillay",
    "Llay-Llay": "Llaillay",
    "Til Til": "Tiltil",
    "Til-Til": "Tiltil",
    "Paihuano": "Paiguano",
    "Aisén": "Aysén",
    "Puerto Aysén": "Aysén",
    "Coihaique": "Coyhaique",
    "Puerto Natales": "Natales",
    "Rapa Nui": "Isla de Pascua",
    "Chol Chol": "Cholchol",
    "San José de la Mariquina": "Mariquina",
    "San Vicente de Tagua Tagua": "San Vicente",
    "San Francisco de Mostazal": "Mostazal",
    "Trehuaco": "Treguaco",
    "Marchigüe": "Marchihue",
    "OHiggins": "O'Higgins",
    "San Pedro de La Paz": "San Pedro de la Paz",
    "Padre las Casas": "Padre Las Casas",
    "Puerto Williams": "Cabo de Hornos",
}

# Everyday words (or names of other things) that are also comunas.
COMMON_WORD: frozenset[str] = frozenset({
    "Alto del Carmen", "Algarrobo", "Antártica", "Arauco", "Cabildo", "Cabo de Hornos", "Caldera", "Calle Larga",
    "Camarones", "Camiña", "Canela", "Cartagena", "Chanco", "Chile Chico", "Cisnes", "Colina", "Constitución",
    "Coronel", "Corral", "El Bosque", "El Carmen", "El Monte", "Empedrado", "Florida",
    "General Lagos", "Graneros", "Hijuelas", "Independencia", "La Calera", "La Cruz", "La Estrella",
    "La Granja", "La Higuera", "La Reina", "La Unión", "Lago Ranco", "Lago Verde", "Laguna Blanca", "Laja", "Lampa",
    "Las Cabras", "Lo Espejo", "Los Álamos", "Los Andes", "Los Lagos", "Los Sauces", "Maule", "Mejillones",
    "Nacimiento", "Navidad", "Nogales", "Olivar", "Padre Hurtado", "Palmilla", "Paredones", "Pica", "Placilla",
    "Portezuelo", "Porvenir", "Primavera", "Retiro", "Rinconada", "Río Bueno", "Río Claro",
    "Río Negro", "Río Verde", "Sagrada Familia", "Salamanca", "San Carlos", "San Gregorio", "San Ignacio",
    "San Nicolás", "San Pablo", "San Pedro", "San Rafael", "San Vicente", "Santa Bárbara", "Santa Cruz",
    "Santa Juana", "Santa María", "Santo Domingo", "Sierra Gorda", "Tierra Amarilla", "Tomé", "Villa Alegre",
    "Yerbas Buenas", "Yungay",
})

# First names and surnames that are also comunas.
PERSON_LIKE: frozenset[str] = frozenset({
    "Bulnes", "Cabrero", "Castro", "Cochrane", "Diego de Almagro", "Ercilla", "Freire", "Fresia", "Galvarino",
    "Gorbea", "Juan Fernández", "Lautaro", "Linares", "María Elena", "María Pinto", "Molina", "Negrete",
    "O'Higgins", "Ovalle", "Pinto", "Quintero", "Saavedra", "Teodoro Schmidt", "Valdivia", "Vicuña", "Victoria",
})

# Common words that read as a date or an idea even after "en"/"de" ("en navidad", "de primavera").
PLACE_PHRASE_ONLY: frozenset[str] = frozenset({
    "Constitución", "Independencia", "Nacimiento", "Navidad", "Porvenir", "Primavera", "Retiro",
})
