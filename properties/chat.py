"""The catalogue inside the conversation: the `search_properties` tool.

Offered when the lead asks about stock ("¿qué departamentos tienen en Ñuñoa?"). The arguments start
from what the lead already told us (comuna, type, bedrooms, budget) and the message itself; an LLM
may refine them. `tool_calls_run` answers from `unit_search`, so every unit the lead reads is real
and available: none is ever invented, and a reserved or sold one never shows.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.numberformat import format as number_format

from conversations.extraction import PROPERTY_TYPE_RE, fold
from crm.llm.types import ToolCall, ToolSpec
from crm.templatetags.chile import money
from leads.models import Lead
from leads.services import clp_to_uf
from properties.models import PropertyType
from properties.selectors import unit_search

TOOL_NAME = "search_properties"
OFFER_SIZE = 3
TOOLS: list[ToolSpec] = [
    {"name": TOOL_NAME,
     "description": "Busca hasta 3 unidades disponibles reales del catálogo de la corredora y se las muestra al "
                    "cliente. Úsala siempre que pregunte qué propiedades hay: nunca inventes unidades ni precios.",
     "parameters": {"type": "object", "properties": {
         "comuna": {"type": "string", "description": "Comuna buscada."},
         "property_type": {"type": "string", "enum": PropertyType.values},
         "bedrooms": {"type": "integer", "minimum": 0, "maximum": 20, "description": "Dormitorios mínimos."},
         "max_price_uf": {"type": "number", "minimum": 0, "description": "Precio máximo en UF."},
         "query": {"type": "string", "description": "Lo que el cliente describe (terraza, cerca del metro...)."},
     }}},
]
_STOCK_NOUN = re.compile(r"\b(?:propiedad(?:es)?|unidad(?:es)?|proyectos?|inmuebles?|opciones|alternativas)\b")
_STOCK_CUE = re.compile(r"\b(?:tienen|tendran|hay|habra|disponibles?|quedan|ofrecen|venden|opciones|alternativas|"
                        r"muestr\w*|mand\w*|envi\w*)\b")


@dataclass(frozen=True)
class CatalogRequest:
    """The search the lead's question asks for, filled from what we know of the lead and the message."""

    arguments: dict[str, Any]


def asks_for_stock(text: str) -> bool:
    """A question about what the brokerage has ("¿tienen casas de 3 dormitorios?", "¿qué deptos hay?")."""
    folded = fold(text)
    asks = "?" in text or re.search(r"\bmuestr\w*|\bmand\w*|\benvi\w*", folded)
    noun = PROPERTY_TYPE_RE.search(folded) or _STOCK_NOUN.search(folded)
    return bool(asks and noun and _STOCK_CUE.search(folded))


def lead_search_arguments(lead: Lead) -> dict[str, Any]:
    """`unit_search` arguments from the lead's known data (the budget in UF, whatever it was said in)."""
    arguments: dict[str, Any] = {}
    if lead.location:
        arguments["comuna"] = lead.location
    if lead.property_type in PropertyType.values:
        arguments["property_type"] = lead.property_type
    if lead.bedrooms is not None:
        arguments["bedrooms"] = lead.bedrooms
    if lead.budget_amount is not None:
        arguments["max_price_uf"] = (lead.budget_amount if lead.budget_currency == "UF"
                                     else clp_to_uf(lead.budget_clp or lead.budget_amount))
    return arguments


def catalog_request_get(*, lead: Lead, text: str) -> CatalogRequest | None:
    """None unless the message asks about stock: the tool is offered only then, and no query is spent."""
    if not asks_for_stock(text):
        return None
    return CatalogRequest(arguments={**lead_search_arguments(lead), "query": text})


def offline_calls(catalog: CatalogRequest) -> list[ToolCall]:
    return [{"name": TOOL_NAME, "arguments": dict(catalog.arguments)}]


def _clean(arguments: dict[str, Any]) -> dict[str, Any]:
    """What a model sent, kept only when it is well-formed (a wrong value is dropped, not fatal)."""
    clean: dict[str, Any] = {}
    if isinstance(arguments.get("comuna"), str) and arguments["comuna"].strip():
        clean["comuna"] = arguments["comuna"].strip()[:120]
    if arguments.get("property_type") in PropertyType.values:
        clean["property_type"] = arguments["property_type"]
    for name, kind in (("bedrooms", int), ("max_price_uf", Decimal)):
        try:
            value = kind(str(arguments[name])) if arguments.get(name) is not None else None
        except (ValueError, ArithmeticError):
            value = None
        if value is not None and value >= 0:
            clean[name] = value
    if isinstance(arguments.get("query"), str):
        clean["query"] = arguments["query"][:500]
    return clean


def _describe(hit_number: int, unit) -> str:
    rooms = "dormitorio" if unit.bedrooms == 1 else "dormitorios"
    parts = [f"{unit.get_property_type_display().lower()} en {unit.comuna}", f"{unit.bedrooms} {rooms}"]
    if unit.area_m2:
        area = unit.area_m2
        places = 0 if area == area.to_integral_value() else 1
        parts.append(f"{number_format(area, ',', decimal_pos=places, grouping=3, thousand_sep='.')} m²")
    parts.append(money(unit.price_uf, "UF"))
    return f"{hit_number}) {unit.code}: " + ", ".join(parts)


def search_reply(*, lead: Lead, arguments: dict[str, Any]) -> str:
    """Up to three available units as the lead reads them, or an honest "we have none"."""
    wanted = {**lead_search_arguments(lead), **_clean(arguments)}
    hits = unit_search(**wanted, top_k=OFFER_SIZE)
    if not hits:
        return ("Por ahora no tenemos unidades disponibles que calcen con lo que buscas. "
                "Si quieres, un ejecutivo te avisa cuando entre algo así.")
    listed = "; ".join(_describe(number, hit.unit) for number, hit in enumerate(hits, start=1))
    return f"Tenemos estas unidades disponibles: {listed}. ¿Te gustaría saber más de alguna?"


def tool_calls_run(*, lead: Lead, calls: list[ToolCall]) -> str:
    """The first `search_properties` call's answer ("" when there is none)."""
    call = next((call for call in calls if call["name"] == TOOL_NAME), None)
    return "" if call is None else search_reply(lead=lead, arguments=dict(call.get("arguments") or {}))
