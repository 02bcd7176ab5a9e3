"""What the assistant knows about a turn, the system prompt built from it, and the offline
assistant: a rule-based Chilean-Spanish qualifier used when no LLM key is configured (or as the
last fallback), so every lead always gets a sensible answer."""

from dataclasses import dataclass, field

from django.contrib.humanize.templatetags.humanize import intcomma

from appointments import chat as visits
from appointments.chat import VisitContext
from crm.llm.types import ToolCall, ToolSpec
from leads.models import Lead
from properties import chat as catalog
from properties.chat import CatalogRequest

FIELD_QUESTIONS = {
    "name": "¿Con quién tengo el gusto?",
    "location": "¿En qué comuna o sector te gustaría vivir?",
    "budget": "¿Con qué presupuesto aproximado cuentas? Puede ser en UF o en pesos.",
    "phone": "¿Me dejas un número de teléfono para que un ejecutivo te contacte?",
    "email": "¿A qué correo te puedo enviar la información?",
    "monthly_income": "Para orientarte con el financiamiento, ¿cuál es tu renta líquida mensual aproximada?",
    "dicom_status": (
        "¿Tienes deudas morosas o estás en DICOM? Si no lo sabes, puedes pedir tu informe gratuito "
        "en el sitio oficial de la CMF."
    ),
    "property_type": "¿Buscas departamento o casa?",
    "bedrooms": "¿Cuántos dormitorios necesitas?",
}
FIELD_LABELS = {
    "name": "nombre", "location": "comuna", "budget": "presupuesto", "phone": "teléfono", "email": "correo",
    "monthly_income": "renta", "dicom_status": "situación DICOM", "property_type": "tipo de propiedad",
    "bedrooms": "dormitorios",
}
HANDOFF_REPLY = "Te comunico con un ejecutivo de {broker}; te escribirá por aquí en breve. 🙌"


@dataclass(frozen=True)
class TurnContext:
    broker_name: str
    assistant_name: str
    greeting: str
    prompt_sections: dict[str, str]
    known: dict[str, object]          # the lead's known fields (name, location, budget, ...)
    missing: list[str]                # still unknown, in the brokerage's priority order
    learned_now: dict[str, object]    # what this very message told us
    calificacion: str                 # calificado / potencial / no_calificado / ""
    first_turn: bool
    handoff: bool = False
    handback_note: str = ""
    passages: list[str] = field(default_factory=list)
    visit: VisitContext | None = None  # set when a visit is on the table: the visit tools are offered
    catalog: CatalogRequest | None = None  # set when the lead asks about stock: search_properties is offered


def tools_offered(ctx: TurnContext) -> list[ToolSpec]:
    """The tools the LLM may call this turn: the visit tools and the catalogue search, when relevant."""
    return [*(visits.TOOLS if ctx.visit is not None else []), *(catalog.TOOLS if ctx.catalog is not None else [])]


def tool_calls_run(*, lead: Lead, calls: list[ToolCall]) -> str:
    """What the assistant's tool calls did (units found, slots, booking): the rest of the reply."""
    return " ".join(filter(None, [catalog.tool_calls_run(lead=lead, calls=calls),
                                  visits.tool_calls_run(lead=lead, calls=calls)]))


def system_prompt(ctx: TurnContext) -> str:
    """Stable part first (identity, rules), so providers' prompt caches hit; the lead's data last."""
    sections = ctx.prompt_sections
    stable = "\n\n".join(filter(None, [
        sections.get("identity", "").replace("{assistant}", ctx.assistant_name),
        f"Corredora: {ctx.broker_name}. Te llamas {ctx.assistant_name}.",
        sections.get("goal", ""), sections.get("style", ""), sections.get("rules", ""),
        "Nunca inventes propiedades, precios ni horarios. Nunca prometas aprobación de crédito ni calcules el pie.",
    ]))
    known = ", ".join(f"{FIELD_LABELS.get(k, k)}: {describe(k, v)}" for k, v in ctx.known.items()) or "nada aún"
    missing = ", ".join(FIELD_LABELS.get(k, k) for k in ctx.missing[:2]) or "nada"
    variable = [f"Datos del cliente: {known}.", f"Pregunta a continuación por: {missing}."]
    if ctx.visit is not None and ctx.visit.upcoming:
        variable.append(f"El cliente tiene una visita agendada para el {ctx.visit.upcoming}.")
    elif ctx.visit is not None:
        variable.append("El cliente califica: ofrécele una visita con un ejecutivo. Usa list_visit_slots para "
                        "mostrarle horarios reales y book_visit para agendar el que elija.")
    elif ctx.calificacion in ("calificado", "potencial"):
        variable.append("El cliente califica: ofrécele agendar una visita con un ejecutivo.")
    if ctx.catalog is not None:
        variable.append("El cliente pregunta por propiedades: usa search_properties para mostrarle unidades "
                        "disponibles reales del catálogo.")
    if ctx.handback_note:
        variable.append(f"Nota del ejecutivo: {ctx.handback_note}")
    if ctx.passages:
        variable.append("Información de la corredora:\n" + "\n".join(f"- {p}" for p in ctx.passages))
    return stable + "\n\n" + "\n".join(variable)


def describe(key: str, value: object) -> str:
    if key == "budget" and isinstance(value, dict):
        amount = value.get("amount")
        return f"{intcomma(int(amount))} {value.get('currency', '')}".strip() if amount else ""
    if key == "monthly_income" and isinstance(value, int | float):
        return f"${intcomma(int(value))}"
    if key == "dicom_status":
        return {"clean": "sin deudas", "has_debt": "con deudas"}.get(str(value), str(value))
    return str(value)


def _acknowledgement(learned: dict[str, object]) -> str:
    if not learned:
        return ""
    if "name" in learned:
        return f"¡Gracias, {str(learned['name']).split()[0]}!"
    parts = [f"{FIELD_LABELS.get(k, k)} {describe(k, v)}" for k, v in learned.items() if k in FIELD_LABELS]
    return f"Perfecto, anoto: {', '.join(parts)}." if parts else "¡Perfecto, gracias!"


def offline_opening(ctx: TurnContext) -> list[str]:
    """Who we are on the first turn, what we understood, and the knowledge-base answer if any."""
    parts = [f"¡Hola! Soy {ctx.assistant_name}, de {ctx.broker_name}."] if ctx.first_turn else []
    acknowledgement = _acknowledgement(ctx.learned_now)
    if acknowledgement:
        parts.append(acknowledgement)
    if ctx.passages:
        parts.append(ctx.passages[0])
    return parts


def offline_reply(ctx: TurnContext) -> str:
    """Greet, acknowledge what the lead just said, then ask for the next one or two missing fields
    in the brokerage's order; when the lead qualifies, offer a visit (the visit tools list the
    slots and book the lead's choice: see conversations.offline)."""
    if ctx.handoff:
        return HANDOFF_REPLY.format(broker=ctx.broker_name)
    if ctx.first_turn and not ctx.learned_now and not ctx.passages:
        return ctx.greeting.format(assistant=ctx.assistant_name, broker=ctx.broker_name)
    parts = offline_opening(ctx)
    if ctx.visit is not None and ctx.visit.offered:
        parts.append("¿Cuál de los horarios que te propuse te acomoda? Respóndeme con el número, "
                     "o dime otro día y hora.")
    elif ctx.visit is None and ctx.calificacion in ("calificado", "potencial") \
            and not {"phone", "email"} <= set(ctx.missing):
        parts.append("Con estos datos podemos coordinar una visita con uno de nuestros ejecutivos. "
                     "¿Qué día y horario te acomoda?")
    elif ctx.missing:
        parts.append(" ".join(FIELD_QUESTIONS[k] for k in ctx.missing[:2] if k in FIELD_QUESTIONS))
    else:
        parts.append("Ya tengo todo lo necesario. Un ejecutivo revisará tu perfil y te contactará pronto.")
    return " ".join(p for p in parts if p)
