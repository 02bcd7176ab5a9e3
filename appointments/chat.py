"""Booking inside the conversation.

The assistant (an LLM, or the offline rules through `offline_calls`) calls three tools:
`list_visit_slots` (offers up to three real free slots, remembered as the lead's `SlotOffer`),
`book_visit` (the lead's choice: a number from that list, or a day / time / part of the day) and
`confirm_visit`. `tool_calls_run` performs them and writes what the lead reads, so dates, agents
and places in the reply always come from the database, never from the model.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments import services, texts
from appointments.models import ACTIVE_STATUSES, Appointment, SlotOffer
from appointments.selectors import Slot, agent_names, booking_settings_get, free_slots
from crm.errors import ApplicationError
from crm.llm.types import ToolCall, ToolSpec
from leads.models import Lead
from pipeline.models import Calificacion, Stage

OFFER_SIZE = 3
OFFER_DAYS = 14
AFTERNOON_FROM = 13  # "en la mañana": slots starting before 13:00; "en la tarde": from 13:00

_CHOICE = {"slot": {"type": "integer", "minimum": 1, "maximum": OFFER_SIZE,
                    "description": "Número del horario en la última lista ofrecida al cliente."},
           "date": {"type": "string", "description": "Día elegido, AAAA-MM-DD."},
           "time": {"type": "string", "description": "Hora elegida, HH:MM (24 horas)."},
           "part_of_day": {"type": "string", "enum": ["mañana", "tarde"]}}
TOOLS: list[ToolSpec] = [
    {"name": "list_visit_slots",
     "description": "Busca hasta 3 horarios libres reales para una visita con un ejecutivo y se los muestra al "
                    "cliente. Úsala siempre antes de proponer horarios: nunca inventes horarios.",
     "parameters": {"type": "object", "properties": {k: _CHOICE[k] for k in ("date", "part_of_day")}}},
    {"name": "book_visit",
     "description": "Agenda la visita en el horario que eligió el cliente (el número de la lista ofrecida, o "
                    "día y hora) y le envía la confirmación con fecha, lugar y ejecutivo.",
     "parameters": {"type": "object", "properties": _CHOICE}},
    {"name": "confirm_visit", "description": "El cliente confirma su próxima visita ya agendada.",
     "parameters": {"type": "object", "properties": {}}},
]


@dataclass(frozen=True)
class VisitContext:
    """What the assistant knows about the lead's visit this turn."""

    time_zone: str
    offered: tuple[datetime, ...] = ()  # the slots last offered, in the order the lead saw them
    upcoming: str = ""                  # the lead's next active visit ("martes 01-12-2026 a las 10:00")
    upcoming_confirmable: bool = False  # scheduled, not yet confirmed


def _qualifies(lead: Lead) -> bool:
    return (lead.calificacion in (Calificacion.CALIFICADO, Calificacion.POTENCIAL)
            and bool(lead.phone or lead.email))


def _upcoming(lead: Lead) -> Appointment | None:
    return (Appointment.objects.filter(lead=lead, status__in=ACTIVE_STATUSES, start_at__gt=timezone.now())
            .order_by("start_at").first())


def visit_context_get(*, lead: Lead) -> VisitContext | None:
    """None while a visit is not on the table (the lead does not qualify yet and has none booked):
    no tools are offered then, and no query is spent."""
    if not _qualifies(lead) and lead.pipeline_stage != Stage.AGENDADO:
        return None
    booking = booking_settings_get()
    tz = ZoneInfo(booking.time_zone)
    upcoming = _upcoming(lead)
    if upcoming is not None:
        return VisitContext(time_zone=booking.time_zone, upcoming=texts.when(upcoming.start_at, tz),
                            upcoming_confirmable=upcoming.status == Appointment.Status.SCHEDULED)
    offer = SlotOffer.objects.filter(lead=lead).first()
    offered = tuple(datetime.fromisoformat(start) for start, _ in offer.slots) if offer else ()
    return VisitContext(time_zone=booking.time_zone, offered=offered)


# --- the lead's words ------------------------------------------------------------------------------

def _plain(text: str) -> str:
    """Lower case without accents ("mañana" → "manana"), so the patterns need one spelling."""
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


_WEEKDAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
_ORDINAL = re.compile(r"\b(?:la|el|opcion|numero|nro\.?|n°)\s*(?:numero\s*)?([123])\b(?![:.,]?\d)"
                      r"|\b(primer[oa]?|segund[oa]|tercer[oa]?)\b|^\s*([123])\s*[.!]?\s*$")
_ORDINAL_WORDS = {"primer": 1, "primero": 1, "primera": 1, "segundo": 2, "segunda": 2, "tercer": 3, "tercero": 3,
                  "tercera": 3}
_TIME = re.compile(r"\b(?:a\s+las|tipo|como\s+a\s+las)\s+(\d{1,2})(?:[:.](\d{2}))?"
                   r"|\b(\d{1,2})[:.](\d{2})\b|\b(\d{1,2})\s*(?:hrs?|horas|am|pm)\b")
_PART_OF_DAY = re.compile(r"\b(?:en|por|de|durante)\s+la\s+(manana|tarde)\b|\b(tarde)\b")
_TOMORROW = re.compile(r"(?<!la )(?<!pasado )\bmanana\b")
_CONFIRM = re.compile(r"\b(confirmo|confirmado|confirmada|si,? (voy|asisto|ahi estare))\b")


def choice_parse(text: str, *, today: date) -> dict[str, Any] | None:
    """`book_visit` arguments from what the lead wrote ("la segunda", "el martes a las 10",
    "mañana en la tarde"), or None when it names no time."""
    plain = _plain(text)
    ordinal = _ORDINAL.search(plain)
    if ordinal:
        number = ordinal.group(1) or ordinal.group(3)
        return {"slot": int(number) if number else _ORDINAL_WORDS[ordinal.group(2)]}
    choice: dict[str, Any] = {}
    day = None
    if re.search(r"\bpasado\s+manana\b", plain):
        day = today + timedelta(days=2)
    elif _TOMORROW.search(plain):
        day = today + timedelta(days=1)
    elif re.search(r"\bhoy\b", plain):
        day = today
    else:
        named = next((i for i, name in enumerate(_WEEKDAYS) if re.search(rf"\b{name}\b", plain)), None)
        if named is not None:
            day = today + timedelta(days=(named - today.weekday() - 1) % 7 + 1)  # the next one, never today
    if day is not None:
        choice["date"] = day.isoformat()
    part = _PART_OF_DAY.search(plain)
    part_name = part and (part.group(1) or part.group(2))
    moment = _TIME.search(plain)
    if moment:
        hour = int(moment.group(1) or moment.group(3) or moment.group(5))
        minute = int(moment.group(2) or moment.group(4) or 0)
        if hour < 8 and part_name != "manana":  # nobody visits at 4 a.m.: "a las 4" is the afternoon
            hour += 12
        if hour < 24 and minute < 60:
            choice["time"] = f"{hour:02d}:{minute:02d}"
    if part_name and "time" not in choice:
        choice["part_of_day"] = "mañana" if part_name == "manana" else "tarde"
    return choice or None


def offline_calls(visit: VisitContext, text: str) -> list[ToolCall]:
    """The tool calls the offline assistant makes this turn (see `offline_reply` for its words)."""
    if visit.upcoming:
        confirms = visit.upcoming_confirmable and _CONFIRM.search(_plain(text))
        return [{"name": "confirm_visit", "arguments": {}}] if confirms else []
    today = timezone.now().astimezone(ZoneInfo(visit.time_zone)).date()
    choice = choice_parse(text, today=today)
    if visit.offered:
        return [{"name": "book_visit", "arguments": choice}] if choice else []
    wanted = {k: v for k, v in (choice or {}).items() if k in ("date", "part_of_day")}
    return [{"name": "list_visit_slots", "arguments": wanted}]


# --- performing the calls ------------------------------------------------------------------------

def _matching(slots: list[Slot], arguments: dict[str, Any], tz: ZoneInfo) -> list[Slot]:
    """Slots that fit the day / time / part of the day asked for (unknown values match nothing)."""
    def fits(slot: Slot) -> bool:
        local = slot.start.astimezone(tz)
        if arguments.get("date") and local.date().isoformat() != arguments["date"]:
            return False
        if arguments.get("time") and f"{local:%H:%M}" != str(arguments["time"]).zfill(5):
            return False
        part = arguments.get("part_of_day")
        return not part or (local.hour < AFTERNOON_FROM) == (part == "mañana")

    return [slot for slot in slots if fits(slot)]


def _spread(slots: list[Slot], tz: ZoneInfo) -> list[Slot]:
    """Up to OFFER_SIZE slots, on different days first (a real choice), then the earliest of the rest."""
    chosen, days = [], set()
    for slot in slots:
        day = slot.start.astimezone(tz).date()
        if day not in days and len(chosen) < OFFER_SIZE:
            chosen.append(slot)
            days.add(day)
    chosen += [slot for slot in slots if slot not in chosen][:OFFER_SIZE - len(chosen)]
    return sorted(chosen, key=lambda slot: slot.start)


def _offer(*, lead: Lead, arguments: dict[str, Any], now: datetime, prefix: str = "") -> str:
    booking = booking_settings_get()
    tz = ZoneInfo(booking.time_zone)
    slots = free_slots(days=OFFER_DAYS, appointment_type=booking.chat_appointment_type, now=now, booking=booking)
    chosen = _spread(_matching(slots, arguments, tz) or slots, tz)
    SlotOffer.objects.update_or_create(lead=lead, defaults={
        "appointment_type": booking.chat_appointment_type,
        "slots": [[slot.start.isoformat(), slot.end.isoformat()] for slot in chosen]})
    return prefix + texts.offer([slot.start for slot in chosen], appointment_type=booking.chat_appointment_type,
                                tz=tz)


def _book(*, lead: Lead, arguments: dict[str, Any], now: datetime) -> str:
    upcoming = _upcoming(lead)
    booking = booking_settings_get()
    if upcoming is not None:  # a retried turn, or a second "book": the visit is already there
        return texts.confirmation(upcoming, agent_name=agent_names({upcoming.agent_id}).get(upcoming.agent_id, ""),
                                  booking=booking)
    tz = ZoneInfo(booking.time_zone)
    offer = SlotOffer.objects.filter(lead=lead).first()
    offered = [datetime.fromisoformat(start) for start, _ in offer.slots] if offer else []
    slots = free_slots(days=OFFER_DAYS, appointment_type=booking.chat_appointment_type, now=now, booking=booking)
    if "slot" in arguments:
        index = int(arguments["slot"]) - 1
        candidates = [s for s in slots if 0 <= index < len(offered) and s.start == offered[index]]
    else:
        candidates = _matching(slots, arguments, tz) if set(arguments) & {"date", "time", "part_of_day"} else []
    candidates.sort(key=lambda slot: (slot.start not in offered, slot.start))
    if not candidates:
        return _offer(lead=lead, arguments={}, now=now, prefix="Ese horario no está disponible. ")
    try:
        appointment = services.appointment_book(lead=lead, start=candidates[0].start,
                                                appointment_type=booking.chat_appointment_type, now=now)
    except ApplicationError as error:
        if error.code != "slot_unavailable":
            raise
        return _offer(lead=lead, arguments={}, now=now, prefix="Ese horario se acaba de ocupar. ")
    SlotOffer.objects.filter(lead=lead).delete()
    return texts.confirmation(appointment, agent_name=agent_names({appointment.agent_id}).get(appointment.agent_id, ""),
                              booking=booking)


def _confirm(*, lead: Lead) -> str:
    upcoming = _upcoming(lead)
    if upcoming is None:
        return ""
    services.appointment_confirm(appointment=upcoming)
    tz = ZoneInfo(booking_settings_get().time_zone)
    return f"¡Gracias! Tu visita del {texts.when(upcoming.start_at, tz)} quedó confirmada."


def tool_calls_run(*, lead: Lead, calls: list[ToolCall], now: datetime | None = None) -> str:
    """Perform the assistant's visit tool calls (the first of each kind) and return what the lead reads."""
    now = now or timezone.now()
    handlers = {
        "list_visit_slots": lambda arguments: _offer(lead=lead, arguments=arguments, now=now),
        "book_visit": lambda arguments: _book(lead=lead, arguments=arguments, now=now),
        "confirm_visit": lambda arguments: _confirm(lead=lead),
    }
    done: dict[str, str] = {}
    for call in calls:
        if call["name"] in handlers and call["name"] not in done:
            done[call["name"]] = handlers[call["name"]](dict(call.get("arguments") or {}))
    return " ".join(text for text in done.values() if text)

