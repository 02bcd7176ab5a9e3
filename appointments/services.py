"""Writes on the agenda: book, reschedule, confirm, cancel, complete, no-show; reminders; calendar feeds.

Each action checks first (`*_check`: is it allowed, is the slot still free) and then performs and
announces. Bookings of one brokerage are serialised by an advisory lock, so "is it still free?" and
the insert are one step; the exclusion constraint on `Appointment` is the last word either way.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from appointments import texts
from appointments.google_sync import appointment_google_queue
from appointments.models import (
    ACTIVE_STATUSES,
    AgentRule,
    Appointment,
    AppointmentType,
    Availability,
    AvailabilityBlock,
    BookingSettings,
    CalendarFeed,
)
from appointments.selectors import Slot, booking_settings_get, slots_between
from brokers.models import User
from conversations.models import Conversation
from conversations.services import notification_send
from crm.errors import ApplicationError
from crm.realtime.broadcast import broadcast
from leads.models import Lead, LeadActivity
from leads.selectors import lead_config_get
from pipeline.services import lead_visit_booked

SLOT_TAKEN = "Ese horario ya no está disponible. Elige otro, por favor."


@dataclass(frozen=True)
class BookingPlan:
    """What a checked booking will write."""

    slot: Slot
    agent_id: int
    booking: BookingSettings


def _lock_agenda() -> None:
    """One booking at a time per brokerage (until the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:agenda"])


def _slot_at(*, start: datetime, appointment_type: str, booking: BookingSettings, now: datetime,
             agent_id: int | None = None, exclude_appointment_id: int | None = None) -> Slot:
    start = start.astimezone(UTC)  # slots are in UTC; a zoned time in a repeated hour would never match
    day = start.astimezone(ZoneInfo(booking.time_zone)).date()
    slots = slots_between(first_day=day, last_day=day, appointment_type=appointment_type, booking=booking,
                          earliest=now + timedelta(minutes=booking.min_notice_minutes), agent_id=agent_id,
                          exclude_appointment_id=exclude_appointment_id)
    slot = next((s for s in slots if s.start == start), None)
    if slot is None:
        raise ApplicationError(SLOT_TAKEN, code="slot_unavailable", status_code=409,
                               details={"start": [start.isoformat()]})
    return slot


def _agent_choose(*, slot: Slot, booking: BookingSettings, now: datetime) -> int:
    """The brokerage's rule among the agents free for the slot."""
    candidates = list(slot.agent_ids)
    if booking.agent_rule == AgentRule.PRIORITY:
        rank = {uid: index for index, uid in enumerate(booking.agent_priority)}
        return min(candidates, key=lambda uid: (rank.get(uid, len(rank)), uid))
    if booking.agent_rule == AgentRule.LEAST_LOADED:
        loads = dict(Appointment.objects.filter(agent_id__in=candidates, status__in=ACTIVE_STATUSES, start_at__gte=now)
                     .values_list("agent_id").annotate(n=Count("id")).values_list("agent_id", "n"))
        return min(candidates, key=lambda uid: (loads.get(uid, 0), uid))
    previous = Appointment.objects.order_by("-id").values_list("agent_id", flat=True).first()
    return next((uid for uid in candidates if previous is not None and uid > previous), candidates[0])


def appointment_book_check(*, lead: Lead, start: datetime, appointment_type: str, now: datetime,
                           agent_id: int | None = None) -> BookingPlan:
    """Is this slot bookable for this lead, and by whom? Call under `_lock_agenda`."""
    if lead.is_deleted:
        raise ApplicationError("Ese lead fue eliminado.", code="lead_deleted")
    if appointment_type not in AppointmentType.values:
        raise ApplicationError("Tipo de cita desconocido.", code="invalid_type",
                               details={"appointment_type": [appointment_type]})
    booking = booking_settings_get()
    slot = _slot_at(start=start, appointment_type=appointment_type, booking=booking, now=now, agent_id=agent_id)
    chosen = agent_id if agent_id is not None else _agent_choose(slot=slot, booking=booking, now=now)
    return BookingPlan(slot=slot, agent_id=chosen, booking=booking)


def _place(appointment_type: str, booking: BookingSettings) -> dict[str, str]:
    """Where it happens, from what the brokerage configured; a property's address comes from its agent."""
    if appointment_type == AppointmentType.OFFICE_MEETING:
        return {"location": booking.office_address}
    if appointment_type == AppointmentType.VIRTUAL_MEETING:
        return {"meeting_url": booking.virtual_meeting_url}
    return {}


def _save_guarded(appointment: Appointment) -> None:
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:  # the exclusion constraint: written meanwhile by someone not taking the lock
        raise ApplicationError(SLOT_TAKEN, code="slot_unavailable", status_code=409) from error


def _timeline(appointment: Appointment, action: str, actor: User | None, **details: str) -> None:
    """The change on the lead's timeline (LeadActivity kind `appointment`), times as ISO instants."""
    LeadActivity.objects.create(lead=appointment.lead, kind=LeadActivity.Kind.APPOINTMENT, actor=actor, payload={
        "action": action, "appointment_id": appointment.id, "appointment_type": appointment.appointment_type,
        "start": appointment.start_at.isoformat(), **details})


def _announce(event: str, appointment: Appointment) -> None:
    broadcast(event, {"appointment_id": appointment.id, "lead_id": appointment.lead_id,
                      "agent_id": appointment.agent_id, "status": appointment.status,
                      "start_at": appointment.start_at.isoformat(), "assigned_to": appointment.lead.assigned_to_id})


@transaction.atomic
def appointment_book(*, lead: Lead, start: datetime, appointment_type: str, actor: User | None = None,
                     agent_id: int | None = None, notes: str = "", now: datetime | None = None) -> Appointment:
    """Book a free slot for the lead (the assistant when `actor` is None): the lead moves to
    `agendado` and every dashboard hears `appointment_created` once it commits."""
    now = now or timezone.now()
    _lock_agenda()
    plan = appointment_book_check(lead=lead, start=start, appointment_type=appointment_type, now=now,
                                  agent_id=agent_id)
    appointment = Appointment(lead=lead, agent_id=plan.agent_id, appointment_type=appointment_type,
                              start_at=plan.slot.start, end_at=plan.slot.end, notes=notes.strip(), booked_by=actor,
                              **_place(appointment_type, plan.booking))
    _save_guarded(appointment)
    lead_visit_booked(lead=lead, config=lead_config_get())
    _timeline(appointment, "booked", actor)
    appointment_google_queue(appointment)
    _announce("appointment_created", appointment)
    return appointment


def _check_active(appointment: Appointment) -> None:
    if not appointment.is_active:
        raise ApplicationError("Esta cita ya está cerrada.", code="appointment_closed",
                               details={"status": [appointment.status]})


@transaction.atomic
def appointment_reschedule(*, appointment: Appointment, start: datetime, agent_id: int | None = None,
                           now: datetime | None = None, actor: User | None = None) -> Appointment:
    """Move to another free slot, with the same agent unless another is named; reminders start over."""
    now = now or timezone.now()
    previous = appointment.start_at
    _check_active(appointment)
    _lock_agenda()
    agent_id = agent_id or appointment.agent_id
    slot = _slot_at(start=start, appointment_type=appointment.appointment_type, booking=booking_settings_get(),
                    now=now, agent_id=agent_id, exclude_appointment_id=appointment.id)
    if agent_id not in slot.agent_ids:
        raise ApplicationError(SLOT_TAKEN, code="slot_unavailable", status_code=409)
    appointment.agent_id, appointment.start_at, appointment.end_at = agent_id, slot.start, slot.end
    appointment.status = Appointment.Status.SCHEDULED
    appointment.reminder_24h_sent_at = appointment.reminder_1h_sent_at = None
    _save_guarded(appointment)
    _timeline(appointment, "rescheduled", actor, **{"from": previous.isoformat()})
    appointment_google_queue(appointment)
    _announce("appointment_updated", appointment)
    return appointment


def _status_set(appointment: Appointment, status: str, actor: User | None, **fields: str) -> Appointment:
    appointment.status = status
    for name, value in fields.items():
        setattr(appointment, name, value)
    appointment.save(update_fields=["status", *fields, "updated_at"])
    _timeline(appointment, status, actor, **({"reason": fields["cancel_reason"]} if "cancel_reason" in fields else {}))
    if status == Appointment.Status.CANCELLED:
        appointment_google_queue(appointment)
    _announce("appointment_updated", appointment)
    return appointment


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, actor: User | None = None) -> Appointment:
    _check_active(appointment)
    return _status_set(appointment, Appointment.Status.CONFIRMED, actor)


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, reason: str, actor: User | None = None) -> Appointment:
    _check_active(appointment)
    if not reason.strip():
        raise ApplicationError("Indica el motivo de la cancelación.", code="cancel_reason_required",
                               details={"reason": ["Obligatorio."]})
    return _status_set(appointment, Appointment.Status.CANCELLED, actor, cancel_reason=reason.strip()[:200])


def _check_started(appointment: Appointment, now: datetime) -> None:
    _check_active(appointment)
    if appointment.start_at > now:
        raise ApplicationError("La cita aún no comienza.", code="appointment_not_started")


@transaction.atomic
def appointment_complete(*, appointment: Appointment, now: datetime | None = None,
                         actor: User | None = None) -> Appointment:
    _check_started(appointment, now or timezone.now())
    return _status_set(appointment, Appointment.Status.COMPLETED, actor)


@transaction.atomic
def appointment_no_show(*, appointment: Appointment, now: datetime | None = None,
                        actor: User | None = None) -> Appointment:
    _check_started(appointment, now or timezone.now())
    return _status_set(appointment, Appointment.Status.NO_SHOW, actor)


# --- reminders ------------------------------------------------------------------------------------

# (claim column, due from this long before the start, until this long before it)
REMINDERS = (
    ("reminder_24h_sent_at", timedelta(hours=24), timedelta(hours=1)),
    ("reminder_1h_sent_at", timedelta(hours=1), timedelta(0)),
)


def reminders_send(*, now: datetime | None = None) -> int:
    """Send the 24 h and 1 h reminders now due: to the lead through their channel (unless they asked
    not to be contacted), to the agent live.

    Each reminder is claimed with `UPDATE … WHERE <column> IS NULL` before it is sent, so two runs at
    once (beat firing twice, a retried task) send it exactly once. A visit booked after its reminder
    time gets none (the booking confirmation was just sent), and a late 24 h reminder gives way to the 1 h.
    """
    now = now or timezone.now()
    booking = booking_settings_get()
    sent = 0
    for column, due_from, due_until in REMINDERS:
        due = Appointment.objects.filter(
            status__in=ACTIVE_STATUSES, start_at__gt=now + due_until, start_at__lte=now + due_from,
            created_at__lt=F("start_at") - due_from, lead__is_deleted=False, **{f"{column}__isnull": True},
        ).select_related("lead")
        for appointment in due:
            with transaction.atomic():
                if not Appointment.objects.filter(pk=appointment.pk, **{f"{column}__isnull": True}).update(
                        **{column: now}):
                    continue  # another run claimed it first
                conversation = (Conversation.objects.filter(lead=appointment.lead)
                                .order_by(F("last_message_at").desc(nulls_last=True), "-id").first())
                if conversation is not None and not appointment.lead.opted_out:
                    notification_send(conversation=conversation,
                                      text=texts.reminder(appointment, booking=booking, now=now))
                broadcast("appointment_reminder", {"appointment_id": appointment.id, "lead_id": appointment.lead_id,
                                                   "start_at": appointment.start_at.isoformat()},
                          user_ids=[appointment.agent_id])
                sent += 1
    return sent


# --- calendar feeds -------------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_get(*, agent: User) -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(agent=agent)
    return feed


@transaction.atomic
def calendar_feed_rotate(*, agent: User) -> CalendarFeed:
    """A new secret URL; calendars subscribed to the old one stop receiving the agent's visits."""
    CalendarFeed.objects.filter(agent=agent).delete()
    return CalendarFeed.objects.create(agent=agent)


# --- availability settings ------------------------------------------------------------------------


def _agenda_changed() -> None:
    broadcast("availability_updated", {})


@transaction.atomic
def availability_create(*, data: dict) -> Availability:
    """A weekly window (`agent` None: brokerage-wide); every open agenda hears about it."""
    window = Availability(**data)
    window.full_clean()
    window.save()
    _agenda_changed()
    return window


@transaction.atomic
def availability_delete(*, availability: Availability) -> None:
    availability.delete()
    _agenda_changed()


@transaction.atomic
def block_create(*, data: dict) -> AvailabilityBlock:
    block = AvailabilityBlock(**data)
    block.full_clean()
    block.save()
    _agenda_changed()
    return block


@transaction.atomic
def block_delete(*, block: AvailabilityBlock) -> None:
    block.delete()
    _agenda_changed()


@transaction.atomic
def booking_settings_update(*, booking: BookingSettings, data: dict) -> BookingSettings:
    for name, value in data.items():
        setattr(booking, name, value)
    booking.full_clean()
    booking.save()
    return booking
