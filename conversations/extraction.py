"""Rule-based field extraction from a lead's message in Chilean Spanish (DESIGN §5).

`extract_fields(text)` returns only what the text states: a key is present only when the
message says it. Keys: name, phone (E.164), email, location (canonical comuna), budget
({"amount", "currency": "UF"|"CLP"}), monthly_income (CLP int), dicom_status
("clean"|"has_debt"), property_type, bedrooms. It is the offline assistant's extractor and
the normaliser of what an LLM extracts, so it is pure Python, has no Django imports and
works on one message at a time.

How a message is read: the text is lower-cased and stripped of accents with every character
kept in place ("folded"), so positions in the folded text are positions in the original.
Each extractor blanks what it consumed (emails, RUTs, phones, the name, money) so later ones
do not read it again: a phone is not a budget, a name is not a comuna.
"""

import re
import unicodedata
from dataclasses import dataclass

from conversations.data.comunas import ALIASES, COMMON_WORD, COMUNAS, PERSON_LIKE, PLACE_PHRASE_ONLY
from conversations.data.names import FIRST_NAMES

MAX_CHARS = 4000
CLAUSE_WINDOW = 160  # characters: a clause longer than this is read from its last part

# --- text helpers ------------------------------------------------------------------------------

_FOLD_TABLE = {
    cp: unicodedata.normalize("NFD", chr(cp))[0]
    for cp in range(0xC0, 0x250)
    if unicodedata.normalize("NFD", chr(cp))[0].isascii()
}
_FOLD_TABLE.update({ord("’"): "'", ord("´"): "'", ord("\u00a0"): " "})

WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
QUESTION_SCOPE_RE = re.compile(r"[!?¿;\n]|[.,](?=\s|$)")
CLAUSE_BREAK_RE = re.compile(r"[!?¿;\n()]|[.,](?=\s|$)|\s(?:y|e|pero|aunque|mientras|porque|pq)\s")
UF_DOTTED_RE = re.compile(r"\bu\.\s?f\.?")


def fold(text: str) -> str:
    """Lower-case `text` without accents, keeping its length (ñ→n, á→a, Ü→u)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    return lowered.translate(_FOLD_TABLE)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span replaced by spaces (same length)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _clause_start(folded: str, position: int) -> int:
    """Start of the clause holding `position`, looking back at most CLAUSE_WINDOW characters
    (so a long message without punctuation costs linear, not quadratic, time)."""
    start = max(0, position - CLAUSE_WINDOW)
    for match in CLAUSE_BREAK_RE.finditer(folded, start, position):
        start = match.end()
    return start


def _clause_end(folded: str, position: int) -> int:
    limit = min(len(folded), position + CLAUSE_WINDOW)
    match = CLAUSE_BREAK_RE.search(folded, position, limit)
    return match.start() if match else limit


def _in_question(folded: str, start: int, end: int) -> bool:
    """Whether the comma-delimited part of a sentence holding [start, end) is a question: it
    opens with ¿ or ends with ? ('tengo dicom, igual puedo arrendar?' asks only its last part)."""
    openings = list(QUESTION_SCOPE_RE.finditer(folded, max(0, start - CLAUSE_WINDOW), start))
    opening = openings[-1] if openings else None
    closing = QUESTION_SCOPE_RE.search(folded, end, end + CLAUSE_WINDOW)
    return bool(opening and opening.group() == "¿") or bool(closing and closing.group() == "?")


@dataclass
class _Message:
    """The original text, its folded form, and the folded form with consumed spans blanked."""

    original: str
    folded: str
    free: str

    def consume(self, spans: list[tuple[int, int]]) -> None:
        self.free = _blank(self.free, spans)


# --- email, RUT, phone -------------------------------------------------------------------------

EMAIL_RE = re.compile(r"(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
RUT_RE = re.compile(r"\b\d{1,2}\.\d{3}\.\d{3}\s?-\s?[\dk]\b|\b\d{7,8}-[\dk]\b")
_SEP = r"[\s.-]?"
PHONE_CANDIDATE_RE = re.compile(
    r"(?<![\w$.,+])(?:"
    rf"\+?\s?\(?\s?56\s?\)?{_SEP}\(?\s?\d{{1,2}}\s?\)?{_SEP}\d{{3,4}}{_SEP}\d{{4}}"  # +56 9 8765 4321, 56 41 223 4567
    rf"|\(?0?\d{{1,2}}\)?{_SEP}\d{{3,4}}{_SEP}\d{{4}}"  # 9 8765 4321, 09-8765-4321, (2) 2345 6789
    rf"|9\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{3}}"  # 987 654 321
    rf"|\d{{4}}{_SEP}\d{{4}}"  # 8765 4321: the old 8-digit mobile
    r")(?!\w|[.,]\d)"
)
PHONE_CUE_RE = re.compile(r"\b(?:fono|telefono|tel|cel|celular|numero|nro|whatsapp|wsp|wasap|whatsap|ws|llamar|"
                          r"llamen|llamarme|contacto|movil)\b")
MONEY_FORMAT_RE = re.compile(r"\d{1,3}(?:\.\d{3}){2,}")
MONEY_AFTER_RE = re.compile(r"\s*(?:de\s+)?(?:uf|pesos|clp|millones|millon|mil|lucas|palos|mm)\b")
LANDLINE_AREA_CODES = frozenset("32 33 34 35 41 42 43 45 51 52 53 55 57 58 61 63 64 65 67 71 72 73 75".split())


def _extract_email(message: _Message) -> str | None:
    matches = list(EMAIL_RE.finditer(message.free))
    message.consume([m.span() for m in matches])
    return matches[0].group().rstrip(".") if matches else None


def _mask_ruts(message: _Message) -> None:
    message.consume([m.span() for m in RUT_RE.finditer(message.free)])


def _national_number(digits: str) -> str | None:
    """The 9-digit national number for a run of digits as leads write it, or None."""
    if len(digits) == 11 and digits.startswith("56"):
        return digits[2:]
    if len(digits) == 10 and digits.startswith("0"):
        return digits[1:]
    if len(digits) == 9:
        return digits
    if len(digits) == 8 and digits[0] in "56789" and not digits.endswith("00000"):
        return "9" + digits  # pre-2012 8-digit mobile: the 9 was added in front
    return None


def _phone_from_candidate(raw: str, strong_context: bool) -> str | None:
    """E.164 for one candidate, or None when it is not a Chilean phone (a price, a RUT, ...)."""
    digits = re.sub(r"\D", "", raw)
    explicit_country = raw.lstrip("(+ ").startswith("56") and len(digits) == 11
    if MONEY_FORMAT_RE.fullmatch(raw.strip()) and not explicit_country:
        return None
    national = _national_number(digits)
    if national is None:
        return None
    if national.startswith(("9", "2")):
        return "+56" + national
    if national[:2] in LANDLINE_AREA_CODES and (explicit_country or "(" in raw or strong_context):
        return "+56" + national
    return None


def _extract_phone(message: _Message) -> str | None:
    free = message.free
    strong_context = bool(PHONE_CUE_RE.search(free))
    found, spans = None, []
    for match in PHONE_CANDIDATE_RE.finditer(free):
        before = free[max(0, match.start() - 3):match.start()].rstrip()
        if before.endswith("$") or MONEY_AFTER_RE.match(free, match.end()):
            continue
        phone = _phone_from_candidate(match.group(), strong_context)
        if phone:
            found = found or phone
            spans.append(match.span())
    message.consume(spans)
    return found


# --- name --------------------------------------------------------------------------------------

NAME_STRONG_TRIGGER_RE = re.compile(
    r"\b(?:me\s+llamo|mi\s+nombre(?:\s+completo)?\s+es|mi\s+nombre(?:\s+completo)?\s*:|nombre\s*:)\s*"
)
NAME_WEAK_TRIGGER_RE = re.compile(
    r"(?:^|(?<=[\s,.!¡¿]))(?:yo\s+)?(?:soy|habla|(?:le|les|te)\s+(?:habla|escribe|saluda))\s+(?:el\s+|la\s+)?"
)
NAME_PARTICLES = frozenset({"de", "del", "la", "las", "los"})
NAME_PARTICLE_RE = re.compile(r"(?:de\s+(?:la|las|los)|del|de)\s+")
NAME_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
NAME_STOPWORDS = frozenset("""
a al aca ahora aqui ando aunque bien buenas buenos busco buscamos buscando casa casado casada cel celular como
con consulta consultar correo cuando de del depto desde dias donde dpto e el ella email en entonces escribo es
esta estaba estamos estoy fono gano gracias hola hoy interesa interesada interesado la las le les lo los mail mas
me mi mis muy necesito no noches nuevamente numero o ok otra para pero por porque pq q que queria quiero quisiera
saludos se si sin soy su tambien tardes te tel telefono tengo tenemos trabajo tu un una uno vez vivimos vivo
whatsapp wsp y ya yo
""".split())
NOT_A_NAME = frozenset("""
casado casada soltero soltera separado separada divorciado divorciada viudo viuda conviviente independiente
dependiente trabajador trabajadora profesor profesora ingeniero ingeniera estudiante chileno chilena extranjero
extranjera nuevo nueva cliente interesado interesada funcionario funcionaria pensionado pensionada jubilado
jubilada empleado empleada medico medica enfermero enfermera contador contadora abogado abogada emprendedor
emprendedora dueno duena arquitecto arquitecta tecnico tecnica vendedor vendedora comerciante mama papa madre
padre hijo hija venezolano venezolana peruano peruana colombiano colombiana argentino argentina haitiano
haitiana primerizo primeriza de del yo muy bien feliz inversionista corredor corredora quien el la un una
""".split())


def _name_case(word: str) -> str:
    """'juan' and 'JUAN' → 'Juan', "o'ryan" → "O'Ryan"; mixed case as written ('McKay')."""
    if not (word.islower() or word.isupper()):
        return word
    return re.sub(r"[^\W\d_]+", lambda part: part.group().capitalize(), word)


def _particle_at(free: str, position: int) -> int:
    """Length of a surname particle ('de ', 'de la ', 'del ') at `position`, 0 when there is none
    or when it introduces a place ('Pedro de Maipú')."""
    match = NAME_PARTICLE_RE.match(free, position)
    if not match:
        return 0
    following = WORD_RE.match(free, match.end())
    return 0 if following and following.group() in LOCATION_FIRST_WORDS else match.end() - position


def _name_tokens(original: str, free: str, start: int, strong: bool) -> tuple[str, int] | None:
    """Read a person's name starting at `start`: (name, end) or None when the words are no name."""
    words: list[str] = []
    end = position = start
    while sum(word.lower() not in NAME_PARTICLES for word in words) < 4:
        particle = _particle_at(free, position) if words and words[0][0].isupper() else 0
        match = NAME_TOKEN_RE.match(original, position + particle)
        if not match:
            break
        word, key = match.group(), free[match.start():match.end()]
        capitalised = word[0].isupper()
        if not key.strip() or key in NAME_STOPWORDS or key in NOT_A_NAME:
            break
        if not words and not (strong or capitalised or key in FIRST_NAMES):
            return None
        if words and words[0][0].isupper() and not capitalised:
            break
        words.extend(original[position:position + particle].split())
        words.append(word)
        end = match.end()
        gap = re.match(r"[ \t]+", original[end:])
        if not gap:
            break
        position = end + gap.end()
    if not words:
        return None
    return " ".join(w.lower() if w.lower() in NAME_PARTICLES else _name_case(w) for w in words), end


def _extract_name(message: _Message) -> str | None:
    for trigger_re, strong in ((NAME_STRONG_TRIGGER_RE, True), (NAME_WEAK_TRIGGER_RE, False)):
        for trigger in trigger_re.finditer(message.free):
            found = _name_tokens(message.original, message.free, trigger.end(), strong)
            if found:
                name, end = found
                message.consume([(trigger.end(), end)])
                return name
    return None


# --- other people's facts ---------------------------------------------------------------------

THIRD_PARTY_RE = re.compile(
    r"\bmi\s+(?:hermano|hermana|amigo|amiga|primo|prima|vecino|vecina|jefe|jefa|colega|cunado|cunada|tio|tia|papa|"
    r"mama|suegro|suegra|hijo|hija|abuelo|abuela)\s+(?:\w+\s+)?(?:se\s+)?(?:compro|arrendo|arrienda|vive|vivia|tiene|"
    r"tenia|vendio|vende|esta|gana|trabaja)\b"
)


def _mask_third_parties(message: _Message) -> None:
    """Blank clauses about a relative or friend ('mi hermano se compró una casa en Buin por 90
    millones'): their facts are not the lead's."""
    message.consume([(m.start(), _clause_end(message.free, m.end())) for m in THIRD_PARTY_RE.finditer(message.free)])


# --- money: budget and monthly income ----------------------------------------------------------

NUMBER_WORDS = {
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16,
    "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiun": 21, "veintiuno": 21,
    "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26, "veintisiete": 27,
    "veintiocho": 28, "veintinueve": 29,
    "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
    "cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200, "trescientos": 300, "trescientas": 300,
    "cuatrocientos": 400, "cuatrocientas": 400, "quinientos": 500, "quinientas": 500, "seiscientos": 600,
    "seiscientas": 600, "setecientos": 700, "setecientas": 700, "ochocientos": 800, "ochocientas": 800,
    "novecientos": 900, "novecientas": 900,
}
MILLION_WORDS = frozenset({"millon", "millones", "mill", "mills", "mll", "mlls", "mm", "palo", "palos"})
THOUSAND_CLP_WORDS = frozenset({"luca", "lucas", "luka", "lukas", "k"})
HALF_WORDS = frozenset({"medio", "media"})
AMOUNT_WORDS = frozenset(NUMBER_WORDS) | MILLION_WORDS | THOUSAND_CLP_WORDS | HALF_WORDS | {"mil"}
AMOUNT_HINT_RE = re.compile(r"\d|\b(?:mil|millon|millones|mill|mills|mll|mlls|mm|palos?|lucas?|lukas?|uf|ufs)\b")
MONEY_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+|\$")
UF_WORDS = frozenset({"uf", "ufs"})
CLP_WORDS = frozenset({"pesos", "clp"})
FOREIGN_WORDS = frozenset({"usd", "dolares", "dolar", "euros", "us"})

NOT_MONEY_AFTER_RE = re.compile(
    r"\s*(?:m2|m²|mt2|mts2?|metros|mt|dormitorios?|dorm|piezas?|banos?|hijos?|anos?|personas|estacionamientos?|"
    r"cuadras?|minutos?|min|kms?|pisos?|%|d(?:\b|\d)|b\b|hectareas?|ha\b|meses|dias|semanas|uf\s+de\s+pie)")
INCOME_CUES = (r"gano|ganamos|gana|ganan|ganando|sueldo|sueldos|salario|renta|rentas|ingreso|ingresos|"
               r"remuneracion|remuneraciones|me\s+pagan|nos\s+pagan|liquido|liquidos|pension|jubilacion|boletas?|"
               r"honorarios|percibo|recibo")
HAVE_CUES = r"tengo|tenemos|cuento\s+con|contamos\s+con|dispongo|disponemos"
BUDGET_CUES = (r"presupuesto|presupuestos|busco|"
               r"buscamos|buscando|quiero|queremos|queria|necesito|necesitamos|puedo\s+pagar|podemos\s+pagar|"
               r"puedo\s+gastar|podemos\s+gastar|alcanza|credito|hipotecario|aprobado|aprobada|aprobaron|"
               r"preaprobado|invertir|inversion|comprar|arrendar|arriendo")
WEAK_BUDGET_CUES = (r"hasta|maximo|max|tope|menos\s+de|bajo|no\s+mas\s+de|algo\s+de|algo\s+por|algo\s+en|tienen|"
                    r"hay|rango")
SKIP_CUES = (r"pie|dividendo|dividendos|gastos\s+comunes|gasto\s+comun|ggcc|deuda|deudas|debo|debia|debe|ahorro|"
             r"ahorros|ahorrado|ahorrados|ahorre|subsidio|reserva|arancel|comision|contribuciones|cuesta|cuestan|"
             r"costo|vale|valen|sale|salen|precio|precios|valor|valores|cuota|cuotas|pago|pagamos|pagando|pagaba|"
             r"mensualidad|abono|tasacion|tasaron|avaluo|vendo|vendemos|vender|venta|consumo|publicad[oa]s?|publicaron|"
             r"anunciad[oa]s?|aviso")
MONEY_CUE_RE = re.compile(
    rf"\b(?:(?P<income>{INCOME_CUES})|(?P<have>{HAVE_CUES})|(?P<budget>{BUDGET_CUES})|(?P<weak>{WEAK_BUDGET_CUES})|"
    rf"(?P<skip>{SKIP_CUES}))\b"
)
QUESTION_BUDGET_CUE_RE = re.compile(
    r"\b(?:presupuesto|tengo|tenemos|alcanza|puedo|podemos|credito|busco|buscamos|hasta|maximo|tope|menos\s+de|"
    r"bajo|algo\s+de|algo\s+por|algo\s+en|tienen|hay)\b"
)
RIGHT_SKIP_RE = re.compile(
    r"\s*(?:de|del|para|para\s+el|para\s+la|como|en|al|a)?\s*(?:pie|dividendo|gastos\s+comunes|ggcc|deudas?|ahorrad|"
    r"ahorro|subsidio|reserva|consumo|arriendo\s+actual)"
)
RIGHT_INCOME_STRONG_RE = re.compile(
    r"\s*(?:de\s+)?(?:liquidos?|liquidas?|brutos?|brutas?|sueldo|renta|ingresos?|salario)\b"
)
RIGHT_INCOME_WEAK_RE = re.compile(r"\s*(?:[a-z]+\s+)?(?:mensuales|mensual|al\s+mes|por\s+mes|cada\s+mes)\b")
RIGHT_ANNUAL_RE = re.compile(r"\s*(?:[a-z]+\s+)?(?:al\s+ano|por\s+ano|anuales|anual)\b")
RIGHT_BUDGET_RE = re.compile(r"\s*(?:de\s+)?(?:presupuesto|maximo|max|tope)\b")
LISTING_REFERENCE_RE = re.compile(
    r"\b(?:el|la|los|las|del|al|ese|esa|este|esta|esos|esas|aquel|aquella)\s+((?:[a-z]+\s+){0,3}?)(?:de|en|por|a)\s+$"
)
LISTING_NOT_WORDS = frozenset({"presupuesto", "credito", "sueldo", "renta", "ingreso", "pie", "ahorro", "tope",
                               "maximo", "rango", "monto"})
BARE_CUE_RE = re.compile(
    rf"\b(?:{INCOME_CUES}|{HAVE_CUES}|{BUDGET_CUES}|{WEAK_BUDGET_CUES})\s+(?:(?:es|de|son|como|unos|unas|aprox|"
    r"aproximadamente|alrededor|mas|o|menos|un|una|total|mensual|liquido|de|del|orden|los|las|mi|mis|el)\s+){0,4}$"
)
# The household's other earner, or the lead after a partner: 'y mi señora 600', 'mi esposo gana X y yo Y'.
PARTNER_RE = re.compile(r"\b(?:(?:mi\s+)?(?:senora|esposa|esposo|marido|pareja|polola|pololo|conviviente)|yo|ella)\b")
FILLER_ONLY_RE = re.compile(r"\s*(?:(?:como|unos|unas|aprox|aproximadamente|alrededor\s+de|mas\s+o\s+menos)\s+)*")
PROPERTY_WORD_RE = re.compile(r"\b(?:departamentos?|deptos?|dptos?|casas?|oficinas?|terrenos?|parcelas?|local(?:es)?|"
                              r"bodegas?|propiedad(?:es)?|inmuebles?)\b")
BUDGET_DEFAULT_CLP_MIN = 20_000_000
PESOS_ONLY_FROM = 100_000  # no UF amount is this large: '1.350.000' is pesos
INCOME_RANGE = (100_000, 100_000_000)
BUDGET_CLP_MIN = 100_000
BUDGET_CLP_MAX = 100_000_000_000
MAX_AMOUNT_DIGITS = 12
MAX_PHRASE_TOKENS = 8  # 'un millón doscientos mil' is 4
MAX_AMOUNTS = 30  # per message: more is not a lead writing about money
BUDGET_UF_RANGE = (5, 200_000)


@dataclass
class _Amount:
    """A money mention: `value` in units of `currency`, or a bare number when currency is None."""

    start: int
    end: int
    value: float
    currency: str | None
    scale: float  # the last multiplier written (1e6 for "millones", 1e3 for "mil"/"lucas", else 1)
    low: float | None = None  # the lower end when the lead gave a range


def _parse_digits(token: str) -> float:
    """'3.500' → 3500, '95.000.000' → 95e6, '1,5'/'1.2' → decimals, '3,500' → 3500; 0 for a
    run of digits too long to be money."""
    if sum(ch.isdigit() for ch in token) > MAX_AMOUNT_DIGITS:
        return 0.0
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):
        return float(re.sub(r"[.,]", "", token))
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d+", token):
        return float(token.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d+[.,]\d+", token):
        return float(token.replace(",", "."))
    return float(re.sub(r"\D", "", token) or 0)


def _amount_phrase_end(tokens: list[re.Match], index: int, text: str) -> int:
    """Index one past the last token of the amount phrase starting at `index`."""
    end = index
    previous = None
    while end < len(tokens) and end - index < MAX_PHRASE_TOKENS:
        word = tokens[end].group()
        if end > index and text[tokens[end - 1].end():tokens[end].start()].strip():
            break
        if word[0].isdigit():
            if previous is not None and previous not in MILLION_WORDS | {"mil"}:
                break
        elif word == "y":
            following = tokens[end + 1].group() if end + 1 < len(tokens) else ""
            if previous is None or not (following in HALF_WORDS or (following in NUMBER_WORDS and
                                                                    NUMBER_WORDS[following] < 10)):
                break
        elif word not in AMOUNT_WORDS:
            break
        previous = word
        end += 1
    return end


def _evaluate(words: list[str]) -> tuple[float, float, bool]:
    """(value, last scale, has CLP multiplier) of amount words like ['1', 'millon', 'y', 'medio']."""
    total, current, scale, clp = 0.0, None, 1.0, False
    for position, word in enumerate(words):
        following = words[position + 1] if position + 1 < len(words) else ""
        if word[0].isdigit():
            current = (current or 0) + _parse_digits(word)
        elif word in NUMBER_WORDS:
            current = (current or 0) + NUMBER_WORDS[word]
        elif word in HALF_WORDS:
            if following in MILLION_WORDS:
                current = 0.5
            elif scale == 1e6 and current is None:
                total += 0.5e6
        elif word == "mil":
            current, scale = (current or 1) * 1000, 1e3
        elif word in MILLION_WORDS:
            total, current, scale, clp = total + (current if current is not None else 1) * 1e6, None, 1e6, True
        elif word in THOUSAND_CLP_WORDS:
            total, current, scale, clp = total + (current or 1) * 1000, None, 1e3, True
    if current is not None:
        total += current * 1000 if scale == 1e6 and current < 1000 else current
    return total, scale, clp


def _currency_word(word: str, before: bool) -> str | None:
    if word in UF_WORDS:
        return "UF"
    if word in FOREIGN_WORDS:
        return "foreign"
    if word in CLP_WORDS or (before and word == "$"):
        return "CLP"
    return None


def _currency_around(tokens: list[re.Match], first: int, last: int, text: str) -> tuple[str | None, int, int]:
    """The currency written right before or after tokens[first:last] ('UF', 'CLP', 'foreign' for
    dollars or euros, None) and the amount's span including it ('3.500 UF', '$95.000.000')."""

    def adjacent(left: int, right: int) -> bool:
        return not text[tokens[left].end():tokens[right].start()].strip()

    start, end = tokens[first].start(), tokens[last - 1].end()
    following = last
    if following < len(tokens) - 1 and tokens[following].group() == "de" and adjacent(following - 1, following):
        following += 1  # "120 millones de pesos"
    if following < len(tokens) and adjacent(following - 1, following):
        currency = _currency_word(tokens[following].group(), before=False)
        if currency:
            return currency, start, tokens[following].end()
    if first > 0 and adjacent(first - 1, first):
        currency = _currency_word(tokens[first - 1].group(), before=True)
        if currency == "CLP" and first > 1 and tokens[first - 2].group() == "us" and adjacent(first - 2, first - 1):
            currency = "foreign"  # US$
        if currency:
            return currency, tokens[first - 1].start(), end
    return None, start, end


def _find_amounts(text: str) -> list[_Amount]:
    if not AMOUNT_HINT_RE.search(text):
        return []  # most messages: no digit and no money word
    tokens = list(MONEY_TOKEN_RE.finditer(text))
    amounts, index = [], 0
    while index < len(tokens) and len(amounts) < MAX_AMOUNTS:
        if tokens[index].group() not in AMOUNT_WORDS and not tokens[index].group()[0].isdigit():
            index += 1
            continue
        end = _amount_phrase_end(tokens, index, text)
        words = [t.group() for t in tokens[index:end]]
        currency, start, stop = _currency_around(tokens, index, end, text)
        value, scale, clp = _evaluate(words)
        has_digits = any(w[0].isdigit() for w in words)
        has_unit = clp or currency is not None or scale != 1.0
        if value and (has_digits or has_unit) and words != ["mil"] and currency != "foreign":
            if currency is None and (clp or value >= PESOS_ONLY_FROM):
                currency = "CLP"
            amounts.append(_Amount(start, stop, value, currency, scale))
        index = max(end, index + 1)
    return _merge_ranges(amounts, text)


def _merge_ranges(amounts: list[_Amount], text: str) -> list[_Amount]:
    """'entre 3.000 y 3.500 UF', 'de 80 a 100 millones': one amount with `low` set."""
    merged: list[_Amount] = []
    for amount in amounts:
        previous = merged[-1] if merged else None
        if (previous and previous.currency is None and previous.scale == 1.0
                and re.fullmatch(r"\s*(?:-|a|y|o|al|hasta)\s*", text[previous.end:amount.start])):
            low = previous.value * amount.scale
            merged[-1] = _Amount(previous.start, amount.end, amount.value, amount.currency, amount.scale, low)
        else:
            merged.append(amount)
    return merged


def _left_cue(left: str) -> str | None:
    """The cue that governs an amount: the last cue word of its clause; weak cues never beat income.
    'have' ('tengo', 'cuento con') is a budget only for a purchase-sized amount: 'tengo 1.000.000
    en la cuenta' is savings."""
    state = None
    for match in MONEY_CUE_RE.finditer(left):
        kind = match.lastgroup
        if kind == "weak":
            state = state if state == "income" else "budget"
        else:
            state = kind
    return state


def _cue_of_previous_clause(free: str, clause_start: int) -> str | None:
    """The income or budget cue of the clause before, when only a comma separates them
    ('mi renta es variable, entre 1 y 1,5 millones')."""
    if not free[max(0, clause_start - 3):clause_start].rstrip().endswith(","):
        return None
    comma = free.rindex(",", 0, clause_start)
    cue = _left_cue(free[_clause_start(free, comma):comma])
    return cue if cue in {"income", "budget", "have"} else None


def _is_listing_reference(left: str) -> bool:
    """'el depto de 3.000 UF', 'la de 95 millones': the price of a listing, not the lead's budget."""
    match = LISTING_REFERENCE_RE.search(left)
    return bool(match) and not (set(match.group(1).split()) & LISTING_NOT_WORDS)


def _classify(amount: _Amount, free: str) -> str | None:
    """'income', 'budget' or None for one amount, from the words around it in its clause."""
    clause_start = _clause_start(free, amount.start)
    left = free[clause_start:amount.start]
    right = free[amount.end:_clause_end(free, amount.end)]
    if RIGHT_SKIP_RE.match(right) or _is_listing_reference(left):
        return None
    if RIGHT_INCOME_STRONG_RE.match(right):
        return "income"
    cue = _left_cue(left)
    if cue == "skip":
        return None
    if cue is None:
        cue = _cue_of_previous_clause(free, clause_start) or _default_kind(amount, right, left)
    if cue == "have":
        cue = "budget" if amount.currency != "CLP" or amount.value >= BUDGET_DEFAULT_CLP_MIN else None
    if cue == "budget" and _in_question(free, amount.start, amount.end) and not QUESTION_BUDGET_CUE_RE.search(left):
        return None
    return cue


def _default_kind(amount: _Amount, right: str, left: str) -> str | None:
    """Kind of an amount with no cue word: UF and purchase-sized pesos are budgets, 'mensuales' is income."""
    if RIGHT_INCOME_WEAK_RE.match(right):
        return "income"
    if RIGHT_BUDGET_RE.match(right) or amount.currency == "UF":
        return "budget"
    if amount.currency == "CLP" and (amount.value >= BUDGET_DEFAULT_CLP_MIN or PROPERTY_WORD_RE.search(left)):
        return "budget"
    return None


def _bare_allowed(amount: _Amount, free: str) -> bool:
    """A number without unit counts as money only right after a money cue ('gano 900', 'gano
    poco, como 500'), and not when it measures something else ('3 dormitorios', '80 m2')."""
    if NOT_MONEY_AFTER_RE.match(free, amount.end):
        return False
    clause_start = _clause_start(free, amount.start)
    left = free[clause_start:amount.start]
    if BARE_CUE_RE.search(left):
        return True
    return bool(FILLER_ONLY_RE.fullmatch(left)) and _cue_of_previous_clause(free, clause_start) is not None


def _income_value(amount: _Amount, free: str) -> int | None:
    value = amount.low if amount.low is not None else amount.value
    if RIGHT_ANNUAL_RE.match(free, amount.end):
        value /= 12
    if amount.currency == "UF":
        return None
    if amount.currency is None and amount.scale == 1.0:
        if value <= 20:
            value *= 1e6  # "gano 1.2" → 1.2 millones
        elif 100 <= value < 10_000:
            value *= 1e3  # "gano 900" → 900 lucas
    low, high = INCOME_RANGE
    return int(round(value)) if low <= value <= high else None


def _budget_value(amount: _Amount) -> dict | None:
    value, currency = amount.value, amount.currency
    if currency is None:
        currency = "UF" if 300 <= value <= 30_000 else "CLP"
    if currency == "UF":
        low, high = BUDGET_UF_RANGE
        return {"amount": _number(value), "currency": "UF"} if low <= value <= high else None
    return {"amount": _number(value), "currency": "CLP"} if BUDGET_CLP_MIN <= value <= BUDGET_CLP_MAX else None


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)


def _partner_clause(amount: _Amount, free: str) -> tuple[bool, bool]:
    """(about a partner, with no money cue) for the clause of an amount: 'y mi señora gana 600', 'y mi señora 600'."""
    left = free[_clause_start(free, amount.start):amount.start]
    return bool(PARTNER_RE.search(left)), not MONEY_CUE_RE.search(left)


def _extract_money(message: _Message) -> tuple[dict | None, int | None]:
    """(budget, monthly income). The budget is the highest one stated in the first currency used;
    the income is the lead's first income plus a partner's when stated ('y mi señora 600')."""
    free = message.free
    budgets, income, partner_income = [], None, 0
    for amount in _find_amounts(free):
        about_partner, without_cue = _partner_clause(amount, free)
        partner_aside = income is not None and about_partner and without_cue
        bare = amount.currency is None and amount.scale == 1.0
        if bare and not (_bare_allowed(amount, free) or partner_aside):
            continue
        kind = "income" if partner_aside else _classify(amount, free)
        if kind == "income" and (value := _income_value(amount, free)) is not None:
            if income is None:
                income = value
            elif about_partner:
                partner_income += value
        elif kind == "budget" and (budget := _budget_value(amount)) is not None:
            budgets.append(budget)
        elif bare:
            continue
        message.consume([(amount.start, amount.end)])
    budget = None
    if budgets:
        currency = budgets[0]["currency"]
        budget = max((b for b in budgets if b["currency"] == currency), key=lambda b: b["amount"])
    return budget, (income + partner_income if income is not None else None)


# --- DICOM -------------------------------------------------------------------------------------

DICOM_CLEAN_RE = re.compile(
    r"\bya\s+(?:(?:la|las|lo|los)\s+)?(?:pague|pagamos|regularice|regularizamos|sali|salimos|me\s+sacaron|"
    r"me\s+borraron|no\s+estoy|no\s+aparezco|no\s+tengo\s+deudas?|estoy\s+limpi[oa]|estoy\s+al\s+dia)\b"
    r"(?!\s+(?:la|el|los|las)\s+(?:reserva|pie|cuota|arriendo|visita|gastos))"
    r"|\bsali(?:mos)?\s+(?:de|del)\s+(?:el\s+)?dicom"
    r"|\b(?:estoy|estamos|ando|quede|quedamos|salgo|aparezco)\s+(?:\w+\s+)?limpi[oa]s?\b"
    r"|\bdicom\s+(?:esta\s+|sale\s+|aparece\s+)?limpio|\blimpi[oa]s?\s+(?:en|de)\s+(?:el\s+)?dicom"
    r"|\bpapeles\s+limpios"
    r"|\b(?:regularice|regularizamos|pague|pagamos|salde|saldamos|cancele)\s+(?:\w+\s+){0,2}?(?:deudas?|dicom)\b"
    r"|\bsin\s+(?:dicom|deudas?|morosidad(?:es)?|protestos)\b"
    r"|\b(?:estoy|estamos)\s+al\s+dia\b(?!\s+de)"
    r"|\b(?:cero|ninguna|ningun|nada\s+de)\s+(?:deudas?|dicom|morosidad)"
    r"|\bdicom\s*:?\s*(?:no|nada|cero|ninguno)\b"
)
DICOM_DEBT_RE = re.compile(
    r"\b(?:estoy|estamos|aparezco|aparecemos|salgo|salimos|ando|quede|quedamos|cai|caimos|sigo|seguimos|estuve|"
    r"estaba|me\s+metieron|me\s+pusieron)\s+(?:\w+\s+){0,2}?(?:en|al)\s+(?:el\s+)?dicom"
    r"|\b(?:tengo|tenemos|mantengo|tenia|teniamos|tuve)\s+(?:\w+\s+){0,2}?"
    r"(?:dicom|deudas?|morosidad(?:es)?|protestos?)\b"
    r"|\bcon\s+dicom\b|\bdicomead[oa]s?\b"
    r"|\b(?:estoy|estamos|soy|quede)\s+moros[oa]s?\b|\bdebo\s+(?:plata|harto|dinero|lucas|\d|en|a)\b"
    r"|\bendeudad[oa]s?\b"
)
DICOM_NEGATION_RE = re.compile(r"\b(?:no|nunca|jamas|tampoco|ni)\s+(?:\w+\s+){0,2}$")
DICOM_NEGATED_DEBT_RE = re.compile(
    r"\b(?:no|nunca|jamas|tampoco)\s+(?:\w+\s+){0,4}?(?:dicom|deudas?|moros[oa]s?|morosidad|protestos?|debo)\b"
)
DICOM_ANSWER_RE = re.compile(r"\s*(?:(?P<no>no|nop|nunca|jamas|para\s+nada)|(?P<yes>si|sip|aja|obvio))\b")
DICOM_UNCERTAIN_RE = re.compile(r"\b(?:no\s+se|no\s+sabria|no\s+estoy\s+segur[oa]|no\s+recuerdo|ni\s+idea|"
                                r"no\s+tengo\s+idea|no\s+me\s+acuerdo)\b|\bsi\s+$")


def _answered(folded: str, match: re.Match, status: str) -> str | None:
    """`status` for a statement, or for one asked back as a question the lead answers
    ('¿Estoy en Dicom? No, nunca'); None for a question left unanswered."""
    if not _in_question(folded, match.start(), match.end()):
        return status
    closing = folded.find("?", match.end())
    answer = DICOM_ANSWER_RE.match(folded, closing + 1) if closing >= 0 else None
    if not answer:
        return None
    if answer.lastgroup == "yes":
        return status
    return "clean" if status == "has_debt" else "has_debt"


def _dicom_events(folded: str) -> list[tuple[int, str]]:
    """(position, status) for each DICOM statement, skipping conditionals and doubts."""
    events = []
    for match in DICOM_CLEAN_RE.finditer(folded):
        left = folded[_clause_start(folded, match.start()):match.start()]
        negated = DICOM_NEGATION_RE.search(left) and "limpi" in match.group()
        events.append((match, "has_debt" if negated else "clean"))
    for match in DICOM_DEBT_RE.finditer(folded):
        left = folded[_clause_start(folded, match.start()):match.start()]
        if not DICOM_UNCERTAIN_RE.search(left):
            events.append((match, "clean" if DICOM_NEGATION_RE.search(left) else "has_debt"))
    for match in DICOM_NEGATED_DEBT_RE.finditer(folded):
        left = folded[_clause_start(folded, match.start()):match.start()]
        if not (DICOM_UNCERTAIN_RE.search(left + match.group()) or CLAUSE_BREAK_RE.search(match.group())):
            events.append((match, "clean"))
    answered = ((match.start(), _answered(folded, match, status)) for match, status in events)
    return sorted((position, status) for position, status in answered if status)


def _extract_dicom(message: _Message) -> str | None:
    events = _dicom_events(message.free)
    return events[-1][1] if events else None


# --- property type and bedrooms ----------------------------------------------------------------

PROPERTY_TYPE_RE = re.compile(
    r"\b(?:(?P<departamento>departamentos?|departamentitos?|deptos?|deptitos?|dptos?|depas?|apartamentos?|"
    r"monoambientes?|studios?|lofts?|penthouse)"
    r"|(?P<casa>casas?|casitas?|casona)"
    r"|(?P<oficina>oficinas?)"
    r"|(?P<terreno>terrenos?|lotes?)"
    r"|(?P<parcela>parcelas?|parcelitas?)"
    r"|(?P<local>local(?:es)?(?:\s+comercial(?:es)?)?)"
    r"|(?P<bodega>bodegas?))\b"
)
INTENT_RE = re.compile(r"\b(?:busco|buscamos|buscando|quiero|queremos|queria|necesito|necesitamos|interesa|interesan|"
                       r"interesad[oa]s?|comprar|compra|arrendar|arriendo|arrendamos|invertir|cotizar|ver|tienen|hay|"
                       r"un|una|unos|unas|algun|alguna)\b")
AMENITY_BEFORE_RE = re.compile(r"\b(?:con|y|mas|sin|incluye|incluida|incluido|\+)\s+(?:\w+\s+)?$|\+\s*$")
HOME_IDIOM_RE = re.compile(r"\b(?:en|a|desde)\s+(?:la\s+|mi\s+|una\s+|el\s+)?$")
POSSESSIVE_RE = re.compile(r"\b(?:mi|mis|tu|tus|su|sus|nuestra|nuestro|nuestras|nuestros)\s+$")
OWNED_BEFORE_RE = re.compile(r"\b(?:tengo|tenemos|tenia|teniamos|vendo|vendemos|vender|vendiendo)\s+"
                             r"(?:(?:un|una|unos|unas|\d+|dos|tres)\s+)?$")
WISHED_POSSESSIVE_RE = re.compile(r"\b(?:quiero|queremos|busco|buscamos|comprar|tener|arrendar|sonamos\s+con)\s+"
                                  r"(?:mi|nuestra|nuestro)\s+$")
FAMILY_HOME_AFTER_RE = re.compile(r"\s+(?:de|del)\s+(?:mis?|un|una|la|el)?\s*(?:papas?|padres|mama|suegr|abuel|"
                                  r"herman|tias?|tios?|amig|polol|pareja|familia|hij)|\s+comercial(?:es)?\b")
HOUSEWIFE_BEFORE_RE = re.compile(r"\bduen[oa]s?\s+de\s+$")  # 'dueña de casa' is a homemaker
INTEREST_BEFORE_RE = re.compile(r"\binteresad[oa]s?\s+en\s+(?:la|el|una|un)?\s*$")


def _property_candidate_ok(kind: str, free: str, match: re.Match) -> bool:
    """Whether a property word names what the lead looks for, not an amenity ('depto con bodega'),
    an idiom ('en la casa', 'dueña de casa', 'casa comercial'), or a property the lead has."""
    left = free[_clause_start(free, match.start()):match.start()]
    if INTEREST_BEFORE_RE.search(left):
        return True
    if AMENITY_BEFORE_RE.search(left) and kind not in {"departamento"}:
        return False
    wished = WISHED_POSSESSIVE_RE.search(left) or free.startswith(" propia", match.end())
    if POSSESSIVE_RE.search(left) and not wished:
        return False
    if OWNED_BEFORE_RE.search(left) or (kind == "casa" and HOUSEWIFE_BEFORE_RE.search(left)):
        return False
    if kind in {"casa", "oficina"} and (HOME_IDIOM_RE.search(left) or FAMILY_HOME_AFTER_RE.match(free, match.end())):
        return False
    needs_intent = kind in {"oficina", "bodega"} or (kind == "local" and "comercial" not in match.group())
    return not needs_intent or bool(INTENT_RE.search(left))


def _extract_property_type(message: _Message) -> str | None:
    """The first property type the lead asks for; one after an intent word ('busco', 'una') first."""
    free = message.free
    accepted = []
    for match in PROPERTY_TYPE_RE.finditer(free):
        kind = match.lastgroup
        if _property_candidate_ok(kind, free, match):
            left = free[_clause_start(free, match.start()):match.start()]
            accepted.append((not INTENT_RE.search(left), match.start(), kind))
    return min(accepted)[2] if accepted else None


SMALL_NUMBERS = {"un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6}
SMALL_NUMBER = r"(?:\d{1,2}|un|una|uno|dos|tres|cuatro|cinco|seis)"
BEDROOMS_RE = re.compile(
    rf"\b(?:(?P<low>{SMALL_NUMBER})\s*(?:o|a|-|/|y|u)\s*)?(?P<n>{SMALL_NUMBER})\s*"
    r"(?:dormitorios?|dormis?|dorms?|dormit|piezas|habitaciones|habitacion|habs?|recamaras?|cuartos)\b"
    r"|\b(?P<compact>\d)\s?d(?:\s?[+/y,-]?\s?\d\s?b(?:anos?)?)?\b"
    r"|\b(?:departamentos?|deptos?|dptos?|depas?|casas?)\s+(?P<slash>\d)\s*/\s*\d\b"
    r"|\b(?:departamentos?|deptos?|dptos?|depas?|casas?)\s+de\s+(?P<short>[1-6]|dos|tres|cuatro)"
    r"(?![\d.,])(?!\s*(?:mil|millon|millones|uf|palos|lucas|m2|mts|metros|pisos|banos|estacionamientos|ambientes))"
)


def _small_number(word: str) -> int:
    return int(word) if word.isdigit() else SMALL_NUMBERS[word]


def _extract_bedrooms(message: _Message) -> int | None:
    match = BEDROOMS_RE.search(message.free)
    if not match:
        return None
    words = [w for w in match.group("low", "n", "compact", "slash", "short") if w]
    count = min(_small_number(w) for w in words)
    return count if 1 <= count <= 10 else None


# --- location ----------------------------------------------------------------------------------


def _location_key(name: str) -> str:
    return " ".join(WORD_RE.findall(fold(name)))


LOCATION_INDEX: dict[str, str] = {_location_key(name): name for name in COMUNAS}
LOCATION_INDEX.update({_location_key(alias): name for alias, name in ALIASES.items()})


def comuna_canonical(name: str) -> str | None:
    """The canonical spelling of a comuna or city ("nunoa" → "Ñuñoa", "stgo" → "Santiago"); None if unknown."""
    return LOCATION_INDEX.get(_location_key(name))


MAX_LOCATION_WORDS = max(len(key.split()) for key in LOCATION_INDEX)
LOCATION_FIRST_WORDS = frozenset(key.split()[0] for key in LOCATION_INDEX)
LOCATION_CUE_WORDS = frozenset({"en", "de", "del", "a", "al", "por", "hacia", "cerca", "zona", "sector", "comuna",
                                "ciudad", "entre", "desde"})
PLACE_PHRASE_RE = re.compile(
    r"\b(?:comuna|sector|zona|ciudad|vivo|vivimos|busco|buscamos|buscando|soy|somos|trabajo|trabajamos|arriendo|"
    r"arrendar|comprar|mudarme|mudarnos|cambiarme|cambiarnos|cambio|interesa|departamento|depto|dpto|casa|"
    r"parcela|terreno|oficina|algo|propiedad)\s+(?:de\s+|en\s+|a\s+|por\s+)?(?:la\s+comuna\s+de\s+)?$"
)
NON_PLACE_PREFIX_RE = re.compile(
    r"\b(?:universidad|u|cordillera|clinica|colegio|instituto|hospital|estadio|mall|metro|estacion|avenida|av|"
    r"calle|pasaje|plaza|parque|region|provincia|poblacion|villa|condominio|edificio|banco|liceo|escuela|dia|"
    r"virgen)\s+(?:de\s+)?(?:la\s+|los\s+|las\s+|el\s+)?$"
)
SEARCH_CUE_RE = re.compile(r"\b(?:busco|buscamos|buscando|quiero|queremos|interesa|interesado|interesada|comprar|"
                           r"arrendar|arriendo|mudarme|mudarnos|cambiarme|cambiarnos|prefiero|ojala|departamento|"
                           r"depto|dpto|casa|parcela|terreno|oficina|algo)\b")
SELLING_RE = re.compile(r"\b(?:vender|vendo|vendemos|venta|vendiendo)\b")
RESIDENCE_RE = re.compile(r"\b(?:vivo|vivimos|soy|somos|estoy|estamos)\b")
ORIGIN_RE = re.compile(r"\b(?:cambiar\w*|mudar\w*|irme|irnos|ir|salir|venir\w*|vengo|venimos)\s+(?:\w+\s+){0,2}?"
                       r"(?:de|desde)\s+$")


def _location_candidates(free: str) -> list[tuple[int, int, str]]:
    """(start, end, comuna) for every known name, longest match first, in text order."""
    matches = list(WORD_RE.finditer(free))
    words = [m.group() for m in matches]
    found, index = [], 0
    while index < len(words):
        size = _location_size(words, index) if words[index] in LOCATION_FIRST_WORDS else 0
        if size:
            found.append((matches[index].start(), matches[index + size - 1].end(),
                          LOCATION_INDEX[" ".join(words[index:index + size])]))
        index += size or 1
    return found


def _location_size(words: list[str], index: int) -> int:
    """Number of words of the longest known name starting at words[index], 0 when none."""
    for size in range(min(MAX_LOCATION_WORDS, len(words) - index), 0, -1):
        if " ".join(words[index:index + size]) in LOCATION_INDEX:
            return size
    return 0


def _sentence_initial(original: str, start: int) -> bool:
    before = original[max(0, start - CLAUSE_WINDOW):start].rstrip()
    return not before or before[-1] in ".!?¡¿:\n"


def _location_ok(comuna: str, start: int, end: int, message: _Message) -> bool:
    """Whether an ambiguous comuna name (a common word or a person's name) is meant as a place."""
    if comuna not in COMMON_WORD and comuna not in PERSON_LIKE:
        return True
    left = message.free[max(0, start - CLAUSE_WINDOW):start]
    if NON_PLACE_PREFIX_RE.search(left):
        return False
    if comuna in PLACE_PHRASE_ONLY:
        return bool(PLACE_PHRASE_RE.search(left))
    previous = WORD_RE.findall(left[-20:])[-1:]
    cue = bool(previous) and previous[0] in LOCATION_CUE_WORDS
    if comuna in PERSON_LIKE:
        return cue
    written = message.original[start:end].split()
    capitalised = any(w[:1].isupper() for w in written) and not _sentence_initial(message.original, start)
    return cue or capitalised


def _location_rank(free: str, start: int) -> int:
    """0 where the lead searches, 1 where the lead lives, 2 other mentions, 3 a place being left
    ('de Puente Alto a La Florida') or an institution's name ('Clínica Las Condes')."""
    left = free[_clause_start(free, start):start]
    if ORIGIN_RE.search(left) or NON_PLACE_PREFIX_RE.search(left):
        return 3
    if SEARCH_CUE_RE.search(left) and not SELLING_RE.search(left):
        return 0
    return 1 if RESIDENCE_RE.search(left) else 2


def _extract_location(message: _Message) -> str | None:
    accepted = [(_location_rank(message.free, start), start, comuna)
                for start, end, comuna in _location_candidates(message.free)
                if _location_ok(comuna, start, end, message)]
    return min(accepted)[2] if accepted else None


# --- entry points ------------------------------------------------------------------------------


def extract_fields(text: str) -> dict:
    """The fields a lead's message states (DESIGN §5); absent fields have no key.

    The order matters: each step blanks what it consumed, so emails and RUTs are not phones,
    phones are not money, the lead's name is not a comuna ('me llamo Santiago') and a relative's
    clause gives nothing."""
    if not text or not text.strip():
        return {}
    original = text[:MAX_CHARS]
    folded = fold(original)
    folded = UF_DOTTED_RE.sub(lambda m: "uf".ljust(len(m.group())), folded)
    message = _Message(original=original, folded=folded, free=folded)
    fields: dict = {}
    fields["email"] = _extract_email(message)
    _mask_ruts(message)
    fields["phone"] = _extract_phone(message)
    fields["name"] = _extract_name(message)
    _mask_third_parties(message)
    fields["budget"], fields["monthly_income"] = _extract_money(message)
    fields["dicom_status"] = _extract_dicom(message)
    fields["bedrooms"] = _extract_bedrooms(message)
    fields["property_type"] = _extract_property_type(message)
    fields["location"] = _extract_location(message)
    return {key: value for key, value in fields.items() if value is not None}


def _is_nothing(value: object) -> bool:
    return value is None or value == "" or value == {} or value == [] or (
        isinstance(value, dict) and value.get("amount") in (None, ""))


def merge_fields(known: dict, new: dict) -> dict:
    """`known` updated with `new`: a newly stated value replaces the old one, nothing never does."""
    merged = dict(known)
    merged.update({key: value for key, value in new.items() if not _is_nothing(value)})
    return merged
