"""Google Calendar: connecting (OAuth against the stub), tokens at rest, pushing events, busy times
from freeBusy in the free slots, token refresh, failures, and the walls between brokerages."""

from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest
from django.db import connection
from django.utils import timezone

from appointments import google_sync, services
from appointments.models import Appointment, ExternalBusy, GoogleCalendarLink
from appointments.selectors import free_slots
from appointments.tasks import appointment_google_push_task
from appointments.tests.factories import agent_make, appointment_make, every_day
from crm.errors import ApplicationError
from leads.tests.factories import lead_make

SCL = ZoneInfo("America/Santiago")
DAY = (datetime.now(SCL) + timedelta(days=3)).date()
TEN = datetime.combine(DAY, time(10), tzinfo=SCL)
A, B = "alfa.localhost", "beta.localhost"
CALLBACK = "http://alfa.localhost/agenda/google/callback/"


def consent(stub, redirect_uri: str = CALLBACK, state: str = "s") -> str:
    """Go through the stub's consent page as the browser would; the authorization code it hands back."""
    response = httpx.get(stub.settings()["GOOGLE_OAUTH_AUTH_URL"],
                         params={"redirect_uri": redirect_uri, "state": state, "client_id": "x"})
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def connect(stub, agent) -> GoogleCalendarLink:
    return google_sync.google_link_connect(agent=agent, code=consent(stub), redirect_uri=CALLBACK)


# --- connecting -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_connect_flow_end_to_end_keeps_the_refresh_token_encrypted(broker_a, agent_a, page_client, google):
    client = page_client(A, agent_a)
    page = client.get("/agenda/disponibilidad/").content.decode()
    assert "Conectar Google Calendar" in page and 'href="/agenda/google/conectar/"' in page

    to_google = client.get("/agenda/google/conectar/")
    assert to_google.status_code == 302
    url = urlsplit(to_google["Location"])
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == google.settings()["GOOGLE_OAUTH_AUTH_URL"]
    assert query["redirect_uri"] == CALLBACK and query["response_type"] == "code"
    assert query["scope"] == "https://www.googleapis.com/auth/calendar" and query["access_type"] == "offline"
    assert query["client_id"] == google.settings()["GOOGLE_OAUTH_CLIENT_ID"]

    back = urlsplit(httpx.get(to_google["Location"]).headers["location"])  # the stub consents at once
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    done = client.get(back.path, parse_qs(back.query))
    assert done.status_code == 302 and done["Location"] == "/agenda/disponibilidad/"

    exchange = google.calls("POST", "/token")[-1]["body"]
    assert exchange["grant_type"] == "authorization_code" and exchange["redirect_uri"] == CALLBACK
    with broker_a:
        link = GoogleCalendarLink.objects.get(agent_id=agent_a.id)
        plaintext = link.refresh_token
        with connection.cursor() as cursor:
            cursor.execute("SELECT refresh_token, access_token FROM appointments_googlecalendarlink WHERE id = %s",
                           [link.id])
            raw_refresh, raw_access = cursor.fetchone()
    assert plaintext.startswith("1//0") and plaintext in google._refresh
    assert plaintext not in raw_refresh and raw_refresh.startswith("gAAAA")  # a Fernet token
    assert link.access_token not in raw_access and link.access_expires_at > timezone.now()

    page = client.get("/agenda/disponibilidad/").content.decode()
    assert "Conectado" in page and "Conectar Google Calendar" not in page and "data-confirm" in page

    gone = client.post("/agenda/google/desconectar/")
    assert gone.status_code == 302
    assert google.revoked[-1] == plaintext
    with broker_a:
        assert not GoogleCalendarLink.objects.exists()


@pytest.mark.django_db
def exchanges(stub) -> int:
    return sum(call["body"].get("grant_type") == "authorization_code" for call in stub.calls("POST", "/token"))


@pytest.mark.django_db
def test_a_tampered_expired_or_someone_elses_state_is_refused(broker_a, broker_b, agent_a, admin_a, admin_b,
                                                              page_client, google, monkeypatch):
    client = page_client(A, agent_a)
    before = exchanges(google)
    with broker_a:
        state = google_sync.google_state_make(user=agent_a)
        admins_state = google_sync.google_state_make(user=admin_a)
    with broker_b:
        other_brokerage = google_sync.google_state_make(user=admin_b)
    for bad in (state[:-2] + "xx", admins_state, other_brokerage, ""):
        response = client.get("/agenda/google/callback/", {"state": bad, "code": consent(google)})
        assert response.status_code == 400
        assert "no es válida" in response.content.decode()
    with broker_a:
        with pytest.raises(ApplicationError):  # B's state, checked by B's admin in A's schema
            google_sync.google_state_check(state=other_brokerage, user=admin_b)
        assert not GoogleCalendarLink.objects.exists()
    assert exchanges(google) == before  # the code was never sent to Google

    # The same valid state, too late.
    monkeypatch.setattr(google_sync, "STATE_MAX_AGE", -1)
    assert client.get("/agenda/google/callback/", {"state": state, "code": "c"}).status_code == 400
    monkeypatch.undo()
    # Saying no on Google's page: back to the settings, nothing stored.
    response = client.get("/agenda/google/callback/", {"state": state, "error": "access_denied"})
    assert response.status_code == 302
    with broker_a:
        assert not GoogleCalendarLink.objects.exists()


@pytest.mark.django_db
def test_without_client_credentials_the_integration_is_not_configured(broker_a, agent_a, page_client, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = settings.GOOGLE_OAUTH_CLIENT_SECRET = ""
    client = page_client(A, agent_a)
    page = client.get("/agenda/disponibilidad/").content.decode()
    assert "no configurada" in page and "/agenda/google/conectar/" not in page
    assert client.get("/agenda/google/conectar/").status_code == 404
    assert client.get("/agenda/google/callback/", {"state": "x", "code": "y"}).status_code == 404


@pytest.mark.django_db
def test_a_brokerage_never_sees_or_uses_another_brokerages_calendar(broker_a, broker_b, agent_a, admin_b,
                                                                    page_client, google):
    with broker_b:
        connect(google, admin_b)
    with broker_a:
        assert not GoogleCalendarLink.objects.exists()
    page = page_client(A, agent_a).get("/agenda/disponibilidad/").content.decode()
    assert "Conectar Google Calendar" in page and "Conectado" not in page
    # B's admin on A's host: the session does not hold, nothing to connect or disconnect there.
    foreign = page_client(A, admin_b)
    assert foreign.get("/agenda/google/conectar/").status_code == 302
    assert foreign.post("/agenda/google/desconectar/").status_code == 302
    with broker_b:
        assert GoogleCalendarLink.objects.filter(agent_id=admin_b.id).exists()


# --- push -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_push_writes_only_what_exists_and_follows_the_appointment(broker_a, agent_a, google):
    with broker_a:
        link = connect(google, agent_a)
        every_day()
        other = agent_make(name="Otra Ejecutiva")
        visit = appointment_make(lead=lead_make(name="Ana Torres"), agent_id=agent_a.id, start=TEN, notes="Casa azul")
        assert google_sync.appointment_google_push(appointment_id=visit.id) == "inserted"
        visit.refresh_from_db()
        event = google.events[google.account][visit.google_event_id]
        assert event["summary"] == "Visita a propiedad: Ana Torres"
        assert event["location"] == "" and "http" not in event["description"]  # no address or link invented
        assert event["description"] == "Casa azul"
        assert event["start"] == {"dateTime": TEN.astimezone(visit.start_at.tzinfo).isoformat(),
                                  "timeZone": "America/Santiago"}
        assert (visit.google_sync_status, visit.google_event_agent_id) == ("synced", agent_a.id)

        # A retried push finds its own event: no duplicate.
        assert google_sync.appointment_google_push(appointment_id=visit.id) == "patched"
        assert len(google.live_events(google.account)) == 1

        # Handed to an agent without Google: the event leaves the first agent's calendar.
        Appointment.objects.filter(pk=visit.pk).update(agent_id=other.id)
        assert google_sync.appointment_google_push(appointment_id=visit.id) == "deleted"
        visit.refresh_from_db()
        assert google.live_events(google.account) == {} and visit.google_event_id == ""
        assert link.error == ""


@pytest.mark.django_db
def test_an_expired_access_token_is_refreshed_first(broker_a, agent_a, google):
    with broker_a:
        link = connect(google, agent_a)
        old = link.access_token
        GoogleCalendarLink.objects.filter(pk=link.pk).update(access_expires_at=timezone.now() - timedelta(minutes=1))
        visit = appointment_make(lead=lead_make(name="Ana"), agent_id=agent_a.id, start=TEN)
        refreshes = len([c for c in google.calls("POST", "/token") if c["body"]["grant_type"] == "refresh_token"])
        google_sync.appointment_google_push(appointment_id=visit.id)
        link.refresh_from_db()
        assert link.access_token != old and link.access_expires_at > timezone.now()
        calls = [c for c in google.calls("POST", "/token") if c["body"]["grant_type"] == "refresh_token"]
        assert len(calls) == refreshes + 1
        assert google.calls("POST", "/events")[-1]["headers"]["authorization"] == f"Bearer {link.access_token}"

        # Google stops accepting a token before its expiry: one 401, one refresh, then it goes through.
        google.expire_access_tokens()
        services.appointment_cancel(appointment=visit, reason="El lead no puede")
        assert google_sync.appointment_google_push(appointment_id=visit.id) == "deleted"
        assert google.live_events(google.account) == {}


@pytest.mark.django_db
def test_a_revoked_grant_marks_the_appointment_and_asks_to_reconnect(broker_a, agent_a, page_client, google):
    with broker_a:
        link = connect(google, agent_a)
        every_day()
        google._refresh.clear()  # the agent revoked access on Google's side
        google.expire_access_tokens()
        visit = appointment_make(lead=lead_make(name="Ana"), agent_id=agent_a.id, start=TEN)
        appointment_google_push_task.apply(args=[visit.id])
        visit.refresh_from_db()
        link.refresh_from_db()
    assert visit.status == "scheduled" and visit.google_sync_status == "failed"  # the visit is kept
    assert "vuelve a conectar" in link.error
    page = page_client(A, agent_a).get("/agenda/disponibilidad/").content.decode()
    assert "data-google-error" in page and "vuelve a conectar" in page
    board = page_client(A, agent_a).get("/agenda/", {"fecha": DAY.isoformat()}).content.decode()
    assert 'data-google-sync="failed"' in board


# --- busy times -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_busy_times_on_google_are_not_offered_until_freed(broker_a, agent_a, google):
    with broker_a:
        link = connect(google, agent_a)
        every_day(time(9), time(13))
        google.busy[google.account] = [(TEN + timedelta(hours=1), TEN + timedelta(hours=2))]  # 11:00–12:00
        own = appointment_make(lead=lead_make(name="Ana"), agent_id=agent_a.id, start=TEN)  # 10:00, ours
        google_sync.appointment_google_push(appointment_id=own.id)  # now busy on Google too

        assert google_sync.google_busy_sync_all() == 1
        busy = list(ExternalBusy.objects.filter(agent_id=agent_a.id).values_list("start_at", "end_at"))
        # freeBusy merged 10–12; the agent's own visit is not counted twice.
        assert busy == [(TEN + timedelta(hours=1), TEN + timedelta(hours=2))]
        now = datetime.combine(DAY, time(7), tzinfo=SCL) - timedelta(days=1)
        starts = [slot.start.astimezone(SCL).hour for slot in free_slots(days=3, appointment_type="property_visit",
                                                                          now=now) if slot.start.date() == DAY]
        assert starts == [9, 12]

        # Cancelled on the CRM: 10:00 is free at once (it was never an outside busy time).
        services.appointment_cancel(appointment=own, reason="Cambio de planes")
        starts = [slot.start.astimezone(SCL).hour for slot in free_slots(days=3, appointment_type="property_visit",
                                                                          now=now) if slot.start.date() == DAY]
        assert starts == [9, 10, 12]

        # The meeting deleted on Google: the next sync frees 11:00 (the cancelled visit's event is gone too).
        google_sync.appointment_google_push(appointment_id=own.id)
        google.busy[google.account] = []
        google_sync.google_busy_sync_all()
        link.refresh_from_db()
        starts = [slot.start.astimezone(SCL).hour for slot in free_slots(days=3, appointment_type="property_visit",
                                                                          now=now) if slot.start.date() == DAY]
    assert starts == [9, 10, 11, 12]
    assert link.busy_synced_at is not None and link.error == ""


@pytest.mark.django_db
def test_a_failing_busy_sync_keeps_the_last_known_times_and_shows_why(broker_a, agent_a, google):
    with broker_a:
        link = connect(google, agent_a)
        google.busy[google.account] = [(TEN, TEN + timedelta(hours=1))]
        google_sync.google_busy_sync_all()
        google.fail_next(503, path="/freeBusy")
        assert google_sync.google_busy_sync_all() == 0
        link.refresh_from_db()
        assert ExternalBusy.objects.filter(agent_id=agent_a.id).count() == 1
    assert "No se pudo sincronizar" in link.error


@pytest.mark.django_db
def test_a_visit_whose_event_was_deleted_on_google_is_marked_not_lost(broker_a, agent_a, page_client, google):
    with broker_a:
        connect(google, agent_a)
        every_day()
        visit = appointment_make(lead=lead_make(name="Ana"), agent_id=agent_a.id, start=TEN)
        google_sync.appointment_google_push(appointment_id=visit.id)
        visit.refresh_from_db()
        event_id = visit.google_event_id
        google.events[google.account][event_id]["status"] = "cancelled"  # the agent deleted it on Google
        google_sync.google_busy_sync_all()
        visit.refresh_from_db()
    listed = google.calls("GET", "/events")[-1]["query"]
    assert listed["privateExtendedProperty"] == f"corredoraSchema={broker_a.schema_name}"
    assert listed["showDeleted"] == "true"
    assert (visit.status, visit.google_sync_status, visit.google_event_id) == ("scheduled", "removed", "")
    board = page_client(A, agent_a).get("/agenda/", {"fecha": DAY.isoformat()}).content.decode()
    assert 'data-google-sync="removed"' in board and "Eliminada en Google Calendar" in board

    # The next change to the visit puts its event back on Google, at the new time.
    with broker_a:
        services.appointment_reschedule(appointment=visit, start=TEN + timedelta(hours=1))
        assert google_sync.appointment_google_push(appointment_id=visit.id) == "patched"
        visit.refresh_from_db()
    event = google.events[google.account][event_id]
    assert event["status"] == "confirmed" and visit.google_event_id == event_id
    assert datetime.fromisoformat(event["start"]["dateTime"]) == TEN + timedelta(hours=1)


# --- the lead's timeline --------------------------------------------------------------------------


@pytest.mark.django_db
def test_visit_changes_appear_on_the_lead_timeline(broker_a, agent_a, admin_a, page_client):
    with broker_a:
        every_day()
        lead = lead_make(name="Ana Torres", assigned_to=agent_a)
        visit = services.appointment_book(lead=lead, start=TEN, appointment_type="property_visit", actor=admin_a)
        services.appointment_reschedule(appointment=visit, start=TEN + timedelta(hours=2), actor=agent_a)
        services.appointment_confirm(appointment=visit, actor=agent_a)
        services.appointment_complete(appointment=visit, actor=agent_a, now=TEN + timedelta(hours=3))
        second = services.appointment_book(lead=lead, start=TEN + timedelta(days=1), appointment_type="property_visit")
        services.appointment_no_show(appointment=second, now=TEN + timedelta(days=2))
        third = services.appointment_book(lead=lead, start=TEN + timedelta(days=2), appointment_type="property_visit")
        services.appointment_cancel(appointment=third, reason="Compró en otra parte", actor=admin_a)
        actions = list(lead.activities.filter(kind="appointment").order_by("id").values_list("payload__action",
                                                                                             flat=True))
        moved = lead.activities.get(payload__action="rescheduled")
    assert actions == ["booked", "rescheduled", "confirmed", "completed", "booked", "no_show", "booked", "cancelled"]
    assert moved.actor_id == agent_a.id and datetime.fromisoformat(moved.payload["from"]) == TEN

    page = page_client(A, agent_a).get(f"/leads/{lead.id}/").content.decode()
    assert f"Visita a propiedad reagendada: {TEN.day} " in page and "10:00 → " in page
    assert "Visita a propiedad confirmada" in page and "Visita a propiedad realizada" in page
    assert "el lead no asistió" in page and "Visita a propiedad cancelada" in page and "Compró en otra parte" in page


@pytest.mark.django_db
def test_the_api_shows_the_sync_state(broker_a, agent_a, api_client, google):
    with broker_a:
        connect(google, agent_a)
        visit = appointment_make(lead=lead_make(name="Ana"), agent_id=agent_a.id, start=TEN)
        google.fail_next(400, path="/events", method="POST")  # Google refuses: no retry can help
        appointment_google_push_task.apply(args=[visit.id])
    body = api_client(A, agent_a).get(f"/api/v1/appointments/{visit.id}/").json()
    assert body["google_sync_status"] == "failed" and "HTTP 400" in body["google_sync_error"]
    assert body["status"] == "scheduled"
