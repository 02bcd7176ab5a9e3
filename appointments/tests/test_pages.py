"""The agenda pages: the calendar (week and day), its JSON actions, booking from a free slot, the
availability settings page, and the walls between agents and between brokerages."""

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment, Availability, AvailabilityBlock, BookingSettings
from appointments.tests.factories import agent_make, appointment_make, every_day
from leads.tests.factories import lead_make

SCL = ZoneInfo("America/Santiago")
DAY = (datetime.now(SCL) + timedelta(days=2)).date()
TEN = datetime.combine(DAY, time(10), tzinfo=SCL)
A, B = "alfa.localhost", "beta.localhost"


def post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


@pytest.mark.django_db
def test_week_and_day_views_show_appointments_and_free_slots(broker_a, admin_a, agent_a, page_client):
    with broker_a:
        every_day(time(9), time(12))
        visit = appointment_make(lead=lead_make(name="Ana Torres"), agent_id=agent_a.id, start=TEN)
    client = page_client(A, admin_a)

    week = client.get("/agenda/", {"fecha": DAY.isoformat()})
    assert week.status_code == 200
    html = week.content.decode()
    assert "Ana Torres" in html and f'data-appointment="{visit.id}"' in html
    assert html.count('data-day="') == 7
    assert "data-free" in html  # 09:00, 11:00 are still free that day
    assert 'href="/agenda/"' in html and 'aria-current="page"' in html

    day = client.get("/agenda/", {"fecha": DAY.isoformat(), "vista": "dia"}).content.decode()
    assert day.count('data-day="') == 1 and "Ana Torres" in day
    other_day = client.get("/agenda/", {"fecha": (DAY + timedelta(days=1)).isoformat(), "vista": "dia"})
    assert "Ana Torres" not in other_day.content.decode()
    partial = client.get("/agenda/", {"fecha": DAY.isoformat(), "parcial": "1"}).content.decode()
    assert "Ana Torres" in partial and "<html" not in partial

    # Two agents at the same time: side by side, not one under the other.
    with broker_a:
        appointment_make(lead=lead_make(name="Bruno Díaz"), agent_id=admin_a.id, start=TEN + timedelta(minutes=30))
    both = client.get("/agenda/", {"fecha": DAY.isoformat()}).content.decode()
    assert "--lanes: 2" in both and "grid-column: 2 / span 1" in both

    only_admin = client.get("/agenda/", {"fecha": DAY.isoformat(), "ejecutivo": admin_a.id}).content.decode()
    assert "Ana Torres" not in only_admin and "Bruno Díaz" in only_admin


@pytest.mark.django_db
def test_an_agent_sees_only_their_own_appointments(broker_a, agent_a, page_client):
    with broker_a:
        every_day()
        colleague = agent_make(name="Colega")
        mine = appointment_make(lead=lead_make(name="Lead Propio", assigned_to=agent_a), agent_id=agent_a.id,
                                start=TEN)
        # Assigned to the agent, but the visit is with the colleague: not on the agent's calendar.
        theirs = appointment_make(lead=lead_make(name="Lead Ajeno", assigned_to=agent_a), agent_id=colleague.id,
                                  start=TEN + timedelta(hours=2))
    client = page_client(A, agent_a)
    html = client.get("/agenda/", {"fecha": DAY.isoformat(), "ejecutivo": colleague.id}).content.decode()
    assert "Lead Propio" in html and "Lead Ajeno" not in html
    assert 'id="agenda-agent"' not in html  # no agent filter for an AGENT
    assert post_json(client, f"/agenda/citas/{theirs.id}/confirmar/").status_code == 404
    assert post_json(client, f"/agenda/citas/{mine.id}/confirmar/").json()["status"] == "confirmed"


@pytest.mark.django_db
def test_drag_reschedule_refuses_a_busy_time_and_moves_to_a_free_one(broker_a, admin_a, agent_a, page_client):
    with broker_a:
        every_day(agent=agent_a)
        first = appointment_make(lead=lead_make(), agent_id=agent_a.id, start=TEN)
        appointment_make(lead=lead_make(), agent_id=agent_a.id, start=TEN + timedelta(hours=1))
    client = page_client(A, admin_a)

    busy = post_json(client, f"/agenda/citas/{first.id}/mover/", {"start": (TEN + timedelta(hours=1)).isoformat()})
    assert busy.status_code == 409 and busy.json()["code"] == "slot_unavailable"
    assert "disponible" in busy.json()["error"]
    bad = post_json(client, f"/agenda/citas/{first.id}/mover/", {"start": "mañana"})
    assert bad.status_code == 400
    moved = post_json(client, f"/agenda/citas/{first.id}/mover/", {"start": (TEN + timedelta(hours=3)).isoformat()})
    assert moved.status_code == 200
    with broker_a:
        first.refresh_from_db()
    assert first.start_at == TEN + timedelta(hours=3)
    # The dialog's datetime-local field sends the brokerage's wall-clock time, without an offset.
    typed = post_json(client, f"/agenda/citas/{first.id}/mover/", {"start": f"{DAY.isoformat()}T15:00"})
    assert typed.status_code == 200
    with broker_a:
        first.refresh_from_db()
    assert first.start_at == TEN + timedelta(hours=5)


@pytest.mark.django_db
def test_status_actions_and_cancel_needs_a_reason(broker_a, admin_a, agent_a, page_client):
    with broker_a:
        every_day()
        past = appointment_make(lead=lead_make(), agent_id=agent_a.id, start=datetime.now(SCL) - timedelta(hours=2))
        future = appointment_make(lead=lead_make(), agent_id=agent_a.id, start=TEN)
    client = page_client(A, admin_a)
    assert post_json(client, f"/agenda/citas/{future.id}/realizada/").json()["code"] == "appointment_not_started"
    assert post_json(client, f"/agenda/citas/{past.id}/no-asistio/").json()["status"] == "no_show"
    assert post_json(client, f"/agenda/citas/{future.id}/cancelar/").json()["code"] == "cancel_reason_required"
    cancelled = post_json(client, f"/agenda/citas/{future.id}/cancelar/", {"reason": "Viaje"})
    assert cancelled.json()["status"] == "cancelled"
    assert post_json(client, f"/agenda/citas/{future.id}/teletransportar/").status_code == 404
    assert client.get(f"/agenda/citas/{future.id}/confirmar/").status_code == 405


@pytest.mark.django_db
def test_booking_from_a_free_slot_and_the_lead_picker(broker_a, admin_a, agent_a, page_client):
    with broker_a:
        every_day()
        lead = lead_make(name="Rocío Fuentes", pipeline_stage="potencial")
        lead_make(name="Otro Lead")
    client = page_client(A, agent_a)
    with broker_a:
        lead.assigned_to = agent_a
        lead.save(update_fields=["assigned_to"])
    found = client.get("/agenda/leads/", {"q": "roc"}).json()["results"]
    assert [r["name"] for r in found] == ["Rocío Fuentes"]
    assert client.get("/agenda/leads/", {"q": "otro"}).json()["results"] == []  # not theirs

    booked = post_json(client, "/agenda/reservar/", {"lead_id": lead.id, "start": TEN.isoformat(),
                                                     "appointment_type": "property_visit", "agent_id": admin_a.id})
    assert booked.status_code == 201, booked.json()
    with broker_a:
        appointment = Appointment.objects.get(pk=booked.json()["id"])
        lead.refresh_from_db()
    # An AGENT books for themselves, whatever agent the request names.
    assert appointment.agent_id == agent_a.id and appointment.booked_by_id == agent_a.id
    assert lead.pipeline_stage == "agendado"
    again = post_json(client, "/agenda/reservar/", {"lead_id": lead.id, "start": TEN.isoformat(),
                                                    "appointment_type": "property_visit"})
    assert again.status_code == 409
    assert post_json(client, "/agenda/reservar/", {"start": TEN.isoformat()}).json()["code"] == "lead_required"


@pytest.mark.django_db
def test_an_agent_edits_their_own_availability(broker_a, admin_a, agent_a, page_client):
    with broker_a:
        colleague = agent_make()
        theirs = Availability.objects.create(agent=colleague, weekday=0, start_time=time(9), end_time=time(12))
    client = page_client(A, agent_a)
    page = client.get("/agenda/disponibilidad/").content.decode()
    assert "Reglas de agenda" not in page and "ventana-agent" not in page

    refused = client.post("/agenda/disponibilidad/", {"form": "ventana", "ventana-weekday": 1,
                                                      "ventana-start_time": "12:00", "ventana-end_time": "10:00",
                                                      "ventana-appointment_type": "property_visit",
                                                      "ventana-slot_minutes": 60})
    assert refused.status_code == 400 and "Debe ser posterior" in refused.content.decode()
    created = client.post("/agenda/disponibilidad/", {"form": "ventana", "ventana-weekday": 1,
                                                      "ventana-start_time": "09:00", "ventana-end_time": "13:00",
                                                      "ventana-appointment_type": "phone_call",
                                                      "ventana-slot_minutes": 30})
    assert created.status_code == 302
    block = client.post("/agenda/disponibilidad/", {"form": "bloqueo", "bloqueo-start_at": f"{DAY}T13:00",
                                                    "bloqueo-end_at": f"{DAY}T14:00", "bloqueo-reason": "Almuerzo",
                                                    "bloqueo-recurring_weekly": "on"})
    assert block.status_code == 302
    with broker_a:
        mine = Availability.objects.get(agent_id=agent_a.id)
        saved_block = AvailabilityBlock.objects.get(agent_id=agent_a.id)
    assert (mine.weekday, mine.slot_minutes, mine.appointment_type) == (1, 30, "phone_call")
    assert saved_block.start_at == datetime.combine(DAY, time(13), tzinfo=SCL) and saved_block.recurring_weekly

    assert client.post(f"/agenda/disponibilidad/ventanas/{theirs.id}/eliminar/").status_code == 404
    assert client.post(f"/agenda/disponibilidad/ventanas/{mine.id}/eliminar/").status_code == 302
    assert client.post(f"/agenda/disponibilidad/bloqueos/{saved_block.id}/eliminar/").status_code == 302
    with broker_a:
        assert not Availability.objects.filter(agent_id=agent_a.id).exists()
        assert Availability.objects.filter(pk=theirs.id).exists()
        assert not AvailabilityBlock.objects.exists()


@pytest.mark.django_db
def test_an_admin_edits_anyones_windows_and_the_booking_rules(broker_a, admin_a, agent_a, page_client):
    client = page_client(A, admin_a)
    assert "Reglas de agenda" in client.get("/agenda/disponibilidad/").content.decode()
    wide = client.post("/agenda/disponibilidad/", {"form": "ventana", "ventana-agent": "", "ventana-weekday": 2,
                                                   "ventana-start_time": "10:00", "ventana-end_time": "18:00",
                                                   "ventana-appointment_type": "office_meeting",
                                                   "ventana-slot_minutes": 45})
    assert wide.status_code == 302
    for_agent = client.post("/agenda/disponibilidad/", {"form": "ventana", "ventana-agent": agent_a.id,
                                                        "ventana-weekday": 3, "ventana-start_time": "10:00",
                                                        "ventana-end_time": "12:00",
                                                        "ventana-appointment_type": "property_visit",
                                                        "ventana-slot_minutes": 60})
    assert for_agent.status_code == 302
    bad_link = client.post("/agenda/disponibilidad/", {"form": "config", "config-agent_rule": "priority",
                                                       "config-office_address": "Av. Apoquindo 4500",
                                                       "config-virtual_meeting_url": "no es un enlace",
                                                       "config-what_to_bring": "cédula",
                                                       "config-min_notice_minutes": 60})
    assert bad_link.status_code == 400
    saved = client.post("/agenda/disponibilidad/", {"form": "config", "config-agent_rule": "priority",
                                                    "config-office_address": "Av. Apoquindo 4500",
                                                    "config-virtual_meeting_url": "https://meet.example.cl/x",
                                                    "config-what_to_bring": "cédula", "config-min_notice_minutes": 60})
    assert saved.status_code == 302
    with broker_a:
        assert set(Availability.objects.values_list("agent_id", "weekday")) == {(None, 2), (agent_a.id, 3)}
        booking = BookingSettings.objects.get(pk=1)
    assert (booking.agent_rule, booking.office_address, booking.min_notice_minutes) == (
        "priority", "Av. Apoquindo 4500", 60)


@pytest.mark.django_db
def test_another_brokerage_gets_404_on_every_agenda_endpoint(broker_a, broker_b, admin_a, admin_b, page_client):
    with broker_b:
        every_day()
        visit = appointment_make(lead=lead_make(), agent_id=admin_b.id, start=TEN)
        window = Availability.objects.create(weekday=0, start_time=time(9), end_time=time(10))
        block = AvailabilityBlock.objects.create(start_at=TEN, end_at=TEN + timedelta(hours=1))
    client = page_client(A, admin_a)
    for action in ("confirmar", "realizada", "no-asistio", "cancelar", "mover"):
        assert post_json(client, f"/agenda/citas/{visit.id}/{action}/",
                         {"reason": "x", "start": TEN.isoformat()}).status_code == 404
    assert client.post(f"/agenda/disponibilidad/ventanas/{window.id}/eliminar/").status_code == 404
    assert client.post(f"/agenda/disponibilidad/bloqueos/{block.id}/eliminar/").status_code == 404
    assert f'data-appointment="{visit.id}"' not in client.get("/agenda/", {"fecha": DAY.isoformat()}).content.decode()
    # B's admin on A's host: the session does not hold there.
    foreign = page_client(A, admin_b)
    assert foreign.get("/agenda/").status_code == 302
    assert post_json(foreign, f"/agenda/citas/{visit.id}/confirmar/").status_code == 302
    with broker_b:
        visit.refresh_from_db()
    assert visit.status == "scheduled"


@pytest.mark.django_db
def test_query_counts_do_not_grow_with_the_agenda(broker_a, admin_a, agent_a, page_client,
                                                  django_assert_num_queries):
    with broker_a:
        every_day()
        appointment_make(lead=lead_make(), agent_id=agent_a.id, start=TEN)
    client = page_client(A, admin_a)
    client.get("/agenda/")  # warm-up: the host lookup is memoized per process
    with django_assert_num_queries(QUERIES_WEEK):
        assert client.get("/agenda/", {"fecha": DAY.isoformat()}).status_code == 200
    with broker_a:
        colleague = agent_make()
        every_day(agent=colleague, appointment_type="phone_call")
        for hours in range(1, 6):
            appointment_make(lead=lead_make(), agent_id=agent_a.id, start=TEN + timedelta(hours=hours))
            appointment_make(lead=lead_make(), agent_id=colleague.id, start=TEN + timedelta(days=1, hours=hours))
    with django_assert_num_queries(QUERIES_WEEK):
        assert client.get("/agenda/", {"fecha": DAY.isoformat()}).status_code == 200
    with django_assert_num_queries(QUERIES_AVAILABILITY):
        assert client.get("/agenda/disponibilidad/").status_code == 200


# Week: session, user, booking settings, team, appointments, slot lengths, then five queries per
# appointment type for its free slots (people, windows, blocks, appointments, Google busy), whatever the data.
QUERIES_WEEK = 27
# Session, user, team, booking settings, windows, blocks, the Google link, and the forms' agent choices.
QUERIES_AVAILABILITY = 10
