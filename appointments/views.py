"""Calendar files on the brokerage host, without a session: an agent's feed behind its secret token,
and one appointment behind a signed link for the lead."""

from datetime import timedelta

from django.core import signing
from django.db import connection
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from appointments import ics
from appointments.models import Appointment, CalendarFeed
from brokers.models import User

FEED_HISTORY = timedelta(days=60)
_INVITE_SALT = "appointments.invite"


def feed_path(feed: CalendarFeed) -> str:
    return reverse("calendar_feed", kwargs={"token": feed.token})


def invite_path(appointment: Appointment) -> str:
    signed = signing.dumps({"s": connection.schema_name, "a": appointment.id}, salt=_INVITE_SALT)
    return reverse("calendar_invite", kwargs={"signed": signed})


def _calendar_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
def calendar_feed(request, token: str):
    feed = CalendarFeed.objects.filter(token=token).first()
    # A deactivated person's feed stops with their account, and never serves another brokerage.
    agent = feed and User.objects.filter(pk=feed.agent_id, broker_id=connection.tenant.id, is_active=True).first()
    if not agent:
        raise Http404
    appointments = (Appointment.objects.filter(agent_id=agent.id, start_at__gte=timezone.now() - FEED_HISTORY)
                    .select_related("lead").order_by("start_at"))
    return _calendar_response(ics.agent_feed(appointments, agent_name=agent.name), "visitas.ics")


@require_GET
def calendar_invite(request, signed: str):
    try:
        ref = signing.loads(signed, salt=_INVITE_SALT)
    except signing.BadSignature as error:
        raise Http404 from error
    if ref.get("s") != connection.schema_name:
        raise Http404
    appointment = Appointment.objects.filter(pk=ref.get("a")).select_related("lead").first()
    if appointment is None:
        raise Http404
    agent_name = User.objects.filter(pk=appointment.agent_id).values_list("name", flat=True).first() or ""
    return _calendar_response(ics.lead_invite(appointment, broker_name=connection.tenant.name, agent_name=agent_name),
                              "visita.ics")
