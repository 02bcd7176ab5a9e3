"""Two-way Google Calendar sync for agents who connect theirs (optional: needs GOOGLE_OAUTH_CLIENT_ID/SECRET).

- Connect: OAuth authorization code flow; `state` is signed and names the user and the brokerage.
  The refresh token is stored encrypted (`EncryptedTextField`), the access token with its expiry.
- Push: booking, rescheduling and cancelling queue `appointment_google_push` (on commit), which makes
  the agent's primary calendar match the appointment: an event while it is not cancelled, none after.
  The event id is derived from the appointment, so a retried insert finds its own event (409) and patches.
- Pull: beat reads every connected calendar's freeBusy every 5 minutes (crm/celery.py) and replaces the
  agent's `ExternalBusy` rows, minus the agent's own active appointments (their events are busy on Google
  too). The free-slot selector reads those rows, so a time taken (or freed) on Google is reflected
  within about 5 minutes. The same run lists the CRM's events deleted on Google (`events.list`,
  showDeleted) and marks their visits.
"""

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments import google
from appointments.google import GoogleError
from appointments.models import ACTIVE_STATUSES, Appointment, ExternalBusy, GoogleCalendarLink, GoogleSync
from appointments.selectors import booking_settings_get
from brokers.models import User
from crm.errors import ApplicationError
from crm.tenancy import enqueue_on_commit

logger = logging.getLogger(__name__)

STATE_SALT = "appointments.google.oauth-state"
STATE_MAX_AGE = 600  # seconds the person has to go through Google's consent page
REFRESH_MARGIN = timedelta(seconds=60)  # refresh an access token this long before it expires


# --- connect / disconnect -------------------------------------------------------------------------


def google_state_make(*, user: User) -> str:
    return signing.dumps({"user": user.id, "broker": connection.tenant.id}, salt=STATE_SALT)


def google_state_check(*, state: str, user: User) -> None:
    """The state Google sent back must be ours, recent, and for this person in this brokerage."""
    try:
        data = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature as error:  # tampered, or expired (SignatureExpired is a BadSignature)
        raise ApplicationError(_("La autorización de Google no es válida o expiró. Inténtalo de nuevo."),
                               code="invalid_state") from error
    if data != {"user": user.id, "broker": connection.tenant.id}:
        raise ApplicationError(_("La autorización de Google no es válida o expiró. Inténtalo de nuevo."),
                               code="invalid_state")


def google_link_connect(*, agent: User, code: str, redirect_uri: str) -> GoogleCalendarLink:
    """Exchange the authorization code, keep the tokens, then read busy times and push upcoming visits."""
    try:
        tokens = google.code_exchange(code=code, redirect_uri=redirect_uri)
    except GoogleError as error:
        logger.warning("google code exchange failed: %s", error)
        raise ApplicationError(_("Google no aceptó la autorización. Inténtalo de nuevo."),
                               code="google_exchange_failed", status_code=502 if error.retryable else 400) from error
    if not tokens.refresh_token:
        raise ApplicationError(_("Google no entregó acceso sin conexión. Inténtalo de nuevo."),
                               code="google_no_refresh_token")
    with transaction.atomic():
        link, _created = GoogleCalendarLink.objects.update_or_create(agent=agent, defaults={
            "refresh_token": tokens.refresh_token, "access_token": tokens.access_token,
            "access_expires_at": tokens.expires_at, "error": "", "error_at": None})
        from appointments.tasks import appointment_google_push_task, google_busy_sync_agent_task

        enqueue_on_commit(google_busy_sync_agent_task, agent.id)
        upcoming = Appointment.objects.filter(agent_id=agent.id, status__in=ACTIVE_STATUSES,
                                              end_at__gt=timezone.now()).values_list("id", flat=True)
        for appointment_id in upcoming:
            enqueue_on_commit(appointment_google_push_task, appointment_id)
    return link


def google_link_disconnect(*, agent: User) -> None:
    """Revoke the grant at Google (if Google cannot be reached the local tokens go anyway) and forget
    the agent's busy times. Events already on the agent's calendar stay there."""
    link = GoogleCalendarLink.objects.filter(agent_id=agent.id).first()
    if link is None:
        return
    try:
        google.token_revoke(token=link.refresh_token)
    except GoogleError as error:
        logger.warning("google revoke failed: %s", error)
    with transaction.atomic():
        ExternalBusy.objects.filter(agent_id=agent.id).delete()
        Appointment.objects.filter(google_event_agent_id=agent.id).update(google_sync_status="", google_sync_error="")
        link.delete()


# --- tokens ---------------------------------------------------------------------------------------


def _access_token(link: GoogleCalendarLink, *, force: bool = False) -> str:
    if not force and link.access_token and link.access_expires_at and (
            link.access_expires_at - REFRESH_MARGIN > timezone.now()):
        return link.access_token
    tokens = google.token_refresh(refresh_token=link.refresh_token)
    link.access_token, link.access_expires_at = tokens.access_token, tokens.expires_at
    fields = ["access_token", "access_expires_at", "updated_at"]
    if tokens.refresh_token:  # Google may rotate it
        link.refresh_token = tokens.refresh_token
        fields.append("refresh_token")
    link.save(update_fields=fields)
    return link.access_token


def _call(link: GoogleCalendarLink, call, **kwargs: Any):
    """`call(access_token=…, **kwargs)` with a fresh token; one forced refresh if Google says 401."""
    try:
        return call(access_token=_access_token(link), **kwargs)
    except GoogleError as error:
        if error.status != 401:
            raise
    return call(access_token=_access_token(link, force=True), **kwargs)


def _link_failed(link: GoogleCalendarLink, error: GoogleError) -> None:
    message = (_("Google rechazó la autorización: vuelve a conectar tu calendario.") if error.auth
               else _("No se pudo sincronizar con Google: %(error)s") % {"error": str(error)})
    link.error, link.error_at = message[:300], timezone.now()
    link.save(update_fields=["error", "error_at", "updated_at"])


# --- push -----------------------------------------------------------------------------------------


def _event_id(appointment: Appointment, agent_id: int) -> str:
    """Google accepts ids of 5–1024 characters in base32hex (0-9, a-v): hex digits qualify."""
    key = f"{connection.schema_name}:{appointment.id}:{agent_id}"
    return "crm" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _event_body(appointment: Appointment) -> dict[str, Any]:
    """What the agent sees on Google: the lead's name, and the address or meeting link only when one exists."""
    tz = booking_settings_get().time_zone
    lead = appointment.lead
    who = lead.name or _("Lead #%(id)s") % {"id": lead.id}
    description = [line for line in (appointment.meeting_url, appointment.notes) if line]
    return {
        "summary": f"{appointment.get_appointment_type_display()}: {who}",
        "description": "\n\n".join(description),
        "location": appointment.location,
        "start": {"dateTime": appointment.start_at.isoformat(), "timeZone": tz},
        "end": {"dateTime": appointment.end_at.isoformat(), "timeZone": tz},
        "status": "confirmed",  # also restores an event someone deleted on Google
        "extendedProperties": {"private": {"corredoraSchema": connection.schema_name,
                                           "corredoraAppointment": str(appointment.id)}},
    }


def _lock_push(appointment_id: int) -> None:
    """Pushes of one appointment one at a time: each then sees what the previous one stored."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                       [f"{connection.schema_name}:google-push:{appointment_id}"])


@transaction.atomic
def appointment_google_push(*, appointment_id: int) -> str:
    """Make Google match the appointment as it is now; what was done. Idempotent.

    The lock and the transaction are held across the HTTP calls (each bounded by GOOGLE_HTTP_TIMEOUT):
    a push that raced a later change would otherwise write back what that change undid."""
    _lock_push(appointment_id)
    appointment = Appointment.objects.select_related("lead").filter(pk=appointment_id).first()
    if appointment is None:
        return "missing"
    wanted_agent = None if appointment.status == Appointment.Status.CANCELLED else appointment.agent_id
    links = {link.agent_id: link for link in GoogleCalendarLink.objects.filter(
        agent_id__in={wanted_agent, appointment.google_event_agent_id} - {None})}
    done = "unchanged"
    if appointment.google_event_id and appointment.google_event_agent_id != wanted_agent:
        old = links.get(appointment.google_event_agent_id)
        if old is not None:
            _call(old, google.event_delete, event_id=appointment.google_event_id)
            done = "deleted"
        appointment.google_event_id, appointment.google_event_agent_id = "", None
    link = links.get(wanted_agent)
    if link is not None:
        event_id, body = appointment.google_event_id, _event_body(appointment)
        try:
            if event_id:
                done = "patched"
                _call(link, google.event_patch, event_id=event_id, event=body)
            else:
                event_id, done = _event_id(appointment, wanted_agent), "inserted"
                _call(link, google.event_insert, event={"id": event_id, **body})
        except GoogleError as error:
            if done == "patched" and error.status == 404:  # gone for good on Google: create it again
                done = "inserted"
                _call(link, google.event_insert, event={"id": event_id, **body})
            elif done == "inserted" and error.status == 409:  # ours already (an earlier try got through)
                done = "patched"
                _call(link, google.event_patch, event_id=event_id, event=body)
            else:
                raise
        appointment.google_event_id, appointment.google_event_agent_id = event_id, wanted_agent
    appointment.google_sync_status = GoogleSync.SYNCED if link or done == "deleted" else ""
    appointment.google_sync_error = ""
    appointment.save(update_fields=["google_event_id", "google_event_agent_id", "google_sync_status",
                                    "google_sync_error", "updated_at"])
    return done


def appointment_google_failed(*, appointment_id: int, error: GoogleError) -> None:
    """Give up on a push: the appointment stays as it is in the CRM, marked, and the agent is told."""
    with transaction.atomic():
        appointment = Appointment.objects.filter(pk=appointment_id).first()
        if appointment is None:
            return
        appointment.google_sync_status, appointment.google_sync_error = GoogleSync.FAILED, str(error)[:300]
        appointment.save(update_fields=["google_sync_status", "google_sync_error", "updated_at"])
        link = GoogleCalendarLink.objects.filter(agent_id=appointment.agent_id).first()
        if link is not None:
            _link_failed(link, error)


def appointment_google_queue(appointment: Appointment) -> None:
    """Called by the agenda's writes: push once they commit, when a connected calendar is concerned."""
    agents = {appointment.agent_id, appointment.google_event_agent_id} - {None}
    if not GoogleCalendarLink.objects.filter(agent_id__in=agents).exists():
        return
    appointment.google_sync_status = GoogleSync.PENDING
    Appointment.objects.filter(pk=appointment.pk).update(google_sync_status=GoogleSync.PENDING)
    from appointments.tasks import appointment_google_push_task

    enqueue_on_commit(appointment_google_push_task, appointment.id)


# --- pull (free/busy) -----------------------------------------------------------------------------


def _subtract(busy: list[tuple[datetime, datetime]], own: list[tuple[datetime, datetime]]):
    """`busy` minus the `own` intervals (both lists of [start, end))."""
    result = []
    for start, end in busy:
        pieces = [(start, end)]
        for own_start, own_end in own:
            pieces = [piece for s, e in pieces for piece in ((s, min(e, own_start)), (max(s, own_end), e))
                      if piece[1] > piece[0]]
        result += pieces
    return result


def google_busy_sync(*, link: GoogleCalendarLink, now: datetime | None = None) -> int:
    """Replace the agent's busy times with Google's for the next GOOGLE_BUSY_SYNC_DAYS; how many.

    Also notices the CRM's own events that the agent deleted on Google: those visits stay booked,
    marked "Eliminada en Google" on the agenda (cancelling is the agent's call, with a reason the
    lead is told); the next change to the visit puts the event back."""
    now = now or timezone.now()
    until = now + timedelta(days=settings.GOOGLE_BUSY_SYNC_DAYS)
    busy = _call(link, google.freebusy, time_min=now, time_max=until)
    deleted = _call(link, google.events_deleted, schema=connection.schema_name, time_min=now)
    own = list(Appointment.objects.filter(agent_id=link.agent_id, status__in=ACTIVE_STATUSES, start_at__lt=until,
                                          end_at__gt=now).values_list("start_at", "end_at"))
    intervals = _subtract(busy, own)
    with transaction.atomic():
        if deleted:
            Appointment.objects.filter(google_event_agent_id=link.agent_id, google_event_id__in=deleted,
                                       status__in=ACTIVE_STATUSES).update(
                google_event_id="", google_event_agent_id=None, google_sync_status=GoogleSync.REMOVED,
                google_sync_error="", updated_at=now)
        ExternalBusy.objects.filter(agent_id=link.agent_id).delete()
        ExternalBusy.objects.bulk_create(ExternalBusy(agent_id=link.agent_id, start_at=start, end_at=end)
                                         for start, end in intervals)
        link.busy_synced_at, link.error, link.error_at = now, "", None
        link.save(update_fields=["busy_synced_at", "error", "error_at", "updated_at"])
    return len(intervals)


def google_busy_sync_all(*, agent_id: int | None = None) -> int:
    """Every connected calendar of the brokerage (or one agent's); a failing one is marked, the rest go on."""
    links = GoogleCalendarLink.objects.all()
    if agent_id is not None:
        links = links.filter(agent_id=agent_id)
    synced = 0
    for link in links:
        try:
            google_busy_sync(link=link)
            synced += 1
        except GoogleError as error:
            logger.warning("google busy sync failed for agent %s: %s", link.agent_id, error)
            _link_failed(link, error)
    return synced
