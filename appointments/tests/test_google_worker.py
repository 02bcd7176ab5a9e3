"""Google Calendar through the real Celery worker: pushes after commit, retries, busy times per brokerage."""

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments import services
from appointments.models import Appointment, ExternalBusy
from appointments.tasks import google_busy_sync_all_brokerages
from appointments.tests.factories import every_day
from appointments.tests.test_google import connect
from brokers.models import User
from conftest import PASSWORD, committed_brokerage
from conversations.tests.test_worker_e2e import wait_for
from leads.tests.factories import lead_make

pytestmark = pytest.mark.worker

SCL = ZoneInfo("America/Santiago")
DAY = (datetime.now(SCL) + timedelta(days=4)).date()
TEN = datetime.combine(DAY, time(10), tzinfo=SCL)


@pytest.fixture(scope="module")
def brokerages(cast, django_db_blocker):
    """Two brokerages of their own, each with one agent and open hours (committed: the worker is
    another process)."""
    made = []
    with django_db_blocker.unblock():
        for name in ("Uno", "Dos"):
            broker = committed_brokerage("gcal", f"Corredora {name}")
            slug = broker.slug
            agent = User.objects.create_user(f"agente@{slug}.cl", PASSWORD, name=f"Agente {name}",
                                             role=User.Role.AGENT, broker=broker)
            with broker:
                every_day(time(9), time(18))
            made.append((broker, agent))
    return made


def _state(broker, appointment_id: int) -> Appointment:
    with broker:
        return Appointment.objects.get(pk=appointment_id)


def test_book_reschedule_and_cancel_reach_google_through_the_worker(brokerages, celery_worker_process, google,
                                                                    django_db_blocker):
    (broker, agent), (other_broker, other_agent) = brokerages
    with django_db_blocker.unblock():
        google.account = f"uno-{uuid.uuid4().hex[:4]}@gmail.com"
        with broker:
            connect(google, agent)
        mine = google.account
        google.account = f"dos-{uuid.uuid4().hex[:4]}@gmail.com"
        with other_broker:
            connect(google, other_agent)
        theirs = google.account

        with broker:
            visit = services.appointment_book(lead=lead_make(name="Ana Torres"), start=TEN,
                                              appointment_type="property_visit")
        synced = wait_for(lambda: _state(broker, visit.id).google_sync_status == "synced" and _state(broker, visit.id))
        event = google.live_events(mine)[synced.google_event_id]
        assert event["summary"] == "Visita a propiedad: Ana Torres"
        assert datetime.fromisoformat(event["start"]["dateTime"]) == TEN

        with broker:
            services.appointment_reschedule(appointment=_state(broker, visit.id), start=TEN + timedelta(hours=3))
        wait_for(lambda: datetime.fromisoformat(google.events[mine][synced.google_event_id]["start"]["dateTime"])
                 == TEN + timedelta(hours=3))
        assert len(google.live_events(mine)) == 1  # moved, not copied

        with broker:
            services.appointment_cancel(appointment=_state(broker, visit.id), reason="El lead viajó")
        wait_for(lambda: not google.live_events(mine))
        assert google.events[mine][synced.google_event_id]["status"] == "cancelled"
        assert wait_for(lambda: _state(broker, visit.id).google_event_id == "")
    assert google.events[theirs] == {}  # the other brokerage's agent never got this visit


def test_google_errors_are_retried_then_shown_and_the_visit_is_kept(brokerages, celery_worker_process, google,
                                                                   django_db_blocker):
    broker, agent = brokerages[0]
    with django_db_blocker.unblock():
        with broker:
            connect(google, agent)
            attempts = len(google.calls("POST", "/events"))
            google.fail_next(503, path="/events", method="POST", times=3)  # the first try + 2 retries
            visit = services.appointment_book(lead=lead_make(name="Bruno"), start=TEN + timedelta(days=1),
                                              appointment_type="property_visit")
        failed = wait_for(lambda: _state(broker, visit.id).google_sync_status == "failed" and _state(broker, visit.id))
        assert len(google.calls("POST", "/events")) - attempts == 3
        assert failed.status == "scheduled" and "HTTP 503" in failed.google_sync_error
        assert google.live_events(google.account) == {}

        # Google is back: the next change goes through.
        with broker:
            services.appointment_reschedule(appointment=failed, start=TEN + timedelta(days=1, hours=2))
        wait_for(lambda: _state(broker, visit.id).google_sync_status == "synced")
        assert len(google.live_events(google.account)) == 1


def test_beat_reads_each_brokerages_busy_times_in_its_own_schema(brokerages, celery_worker_process, google,
                                                                 django_db_blocker):
    (broker, agent), (other_broker, other_agent) = brokerages
    with django_db_blocker.unblock():
        busy_one = (TEN + timedelta(days=2), TEN + timedelta(days=2, hours=1))
        busy_two = (TEN + timedelta(days=2, hours=4), TEN + timedelta(days=2, hours=6))
        for (place, person), busy in (((broker, agent), busy_one), ((other_broker, other_agent), busy_two)):
            google.account = f"busy-{uuid.uuid4().hex[:4]}@gmail.com"
            google.busy[google.account] = [busy]
            with place:
                connect(google, person)

        google_busy_sync_all_brokerages.delay()  # as beat sends it, from the public schema

        def rows(place):
            with place:
                return list(ExternalBusy.objects.values_list("agent_id", "start_at", "end_at"))

        assert wait_for(lambda: (agent.id, *busy_one) in rows(broker))
        assert wait_for(lambda: (other_agent.id, *busy_two) in rows(other_broker))
        assert all(row[0] == agent.id and (row[1], row[2]) != busy_two for row in rows(broker))
        assert all(row[0] == other_agent.id and (row[1], row[2]) != busy_one for row in rows(other_broker))
