"""iCalendar (RFC 5545) files: an agent's subscribed feed and one appointment for the lead."""

from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.utils import timezone
from icalendar import Calendar, Event

from appointments import texts
from appointments.models import Appointment

_STATUS = {
    Appointment.Status.SCHEDULED: "TENTATIVE",
    Appointment.Status.CONFIRMED: "CONFIRMED",
    Appointment.Status.CANCELLED: "CANCELLED",
    Appointment.Status.COMPLETED: "CONFIRMED",
    Appointment.Status.NO_SHOW: "CONFIRMED",
}


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Corredora CRM//Agenda//ES")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(appointment: Appointment, *, summary: str, description: str) -> Event:
    event = Event()
    # Stable per appointment, so a subscribed calendar updates the event instead of adding another.
    event.add("uid", f"appointment-{appointment.id}@{connection.schema_name}.{settings.BASE_DOMAIN}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.start_at)
    event.add("dtend", appointment.end_at)
    event.add("last-modified", appointment.updated_at)
    event.add("sequence", int(appointment.updated_at.timestamp()) - int(appointment.created_at.timestamp()))
    event.add("summary", summary)
    event.add("status", _STATUS[appointment.status])
    if appointment.location:
        event.add("location", appointment.location)
    if appointment.meeting_url:
        event.add("url", appointment.meeting_url)
    if description:
        event.add("description", description)
    return event


def agent_feed(appointments: Iterable[Appointment], *, agent_name: str) -> bytes:
    """The agent's visits (cancelled ones included, so subscribed calendars drop them)."""
    calendar = _calendar(f"Visitas · {agent_name}")
    for appointment in appointments:
        lead = appointment.lead
        noun = texts.NOUNS.get(appointment.appointment_type, "visita").capitalize()
        details = [f"Lead: {lead}", f"Teléfono: {lead.phone}" if lead.phone else "",
                   f"Correo: {lead.email}" if lead.email else "", appointment.notes]
        calendar.add_component(_event(appointment, summary=f"{noun}: {lead}",
                                      description="\n".join(filter(None, details))))
    return calendar.to_ical()


def lead_invite(appointment: Appointment, *, broker_name: str, agent_name: str) -> bytes:
    """One appointment, as the lead adds it to their own calendar."""
    noun = texts.NOUNS.get(appointment.appointment_type, "visita")
    calendar = _calendar(broker_name)
    calendar.add_component(_event(appointment, summary=f"{noun.capitalize()} con {broker_name}",
                                  description=f"Tu ejecutivo: {agent_name}. {texts.place(appointment)}"))
    return calendar.to_ical()
