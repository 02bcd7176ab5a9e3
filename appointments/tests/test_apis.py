"""The appointments API: filters, booking, changes, slots, and the walls between agents and brokerages."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment
from appointments.tests.factories import agent_make, appointment_make, every_day
from leads.tests.factories import lead_make

SCL = ZoneInfo("America/Santiago")
DAY = (datetime.now(SCL) + timedelta(days=2)).date()
TEN = datetime.combine(DAY, time(10), tzinfo=SCL)
A, B = "alfa.localhost", "beta.localhost"


@pytest.mark.django_db
def test_book_list_reschedule_and_cancel(broker_a, admin_a, agent_a, api_client):
    with broker_a:
        every_day()
        lead = lead_make(name="Ana", pipeline_stage="potencial")
    api = api_client(A, admin_a)

    slots = api.get("/api/v1/appointments/slots/", {"days": 3}).json()
    assert slots and {tuple(s["agent_ids"]) for s in slots} == {(agent_a.id,)}
    created = api.post("/api/v1/appointments/", {"lead_id": lead.id, "start": TEN.isoformat(), "notes": "Depto 3D"},
                       format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["agent"], body["status"], body["lead_name"], body["notes"]) == (agent_a.id, "scheduled", "Ana",
                                                                                 "Depto 3D")
    taken = api.post("/api/v1/appointments/", {"lead_id": lead.id, "start": TEN.isoformat()}, format="json")
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "slot_unavailable"

    listed = api.get("/api/v1/appointments/", {"status": ["scheduled", "confirmed"], "lead_id": lead.id}).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]
    assert api.get("/api/v1/appointments/", {"status": "cancelled"}).json()["count"] == 0

    moved = api.post(f"/api/v1/appointments/{body['id']}/reschedule/",
                     {"start": (TEN + timedelta(hours=2)).isoformat()}, format="json")
    assert moved.status_code == 200 and datetime.fromisoformat(moved.json()["start_at"]) == TEN + timedelta(hours=2)
    assert api.post(f"/api/v1/appointments/{body['id']}/confirm/").json()["status"] == "confirmed"
    refused = api.post(f"/api/v1/appointments/{body['id']}/cancel/", {}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "validation_error"
    cancelled = api.post(f"/api/v1/appointments/{body['id']}/cancel/", {"reason": "Viaje"}, format="json").json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Viaje")
    assert api.post(f"/api/v1/appointments/{body['id']}/teleport/").status_code == 404


@pytest.mark.django_db
def test_an_agent_sees_and_books_only_for_their_own_leads(broker_a, agent_a, api_client):
    with broker_a:
        every_day()
        colleague = agent_make()
        mine, theirs = lead_make(assigned_to=agent_a), lead_make(assigned_to=colleague)
        own = appointment_make(lead=mine, agent_id=agent_a.id, start=TEN + timedelta(days=1))
        other = appointment_make(lead=theirs, agent_id=colleague.id, start=TEN + timedelta(days=1))
    api = api_client(A, agent_a)

    assert [a["id"] for a in api.get("/api/v1/appointments/").json()["results"]] == [own.id]
    assert api.get(f"/api/v1/appointments/{other.id}/").status_code == 404
    assert api.post(f"/api/v1/appointments/{other.id}/cancel/", {"reason": "x"}, format="json").status_code == 404
    assert api.post("/api/v1/appointments/", {"lead_id": theirs.id, "start": TEN.isoformat()},
                    format="json").status_code == 404
    for_colleague = api.post("/api/v1/appointments/", {"lead_id": mine.id, "start": TEN.isoformat(),
                                                       "agent_id": colleague.id}, format="json")
    assert for_colleague.status_code == 403 and for_colleague.json()["error"]["code"] == "invalid_agent"


@pytest.mark.django_db
def test_another_brokerage_can_neither_see_nor_touch_the_agenda(broker_a, broker_b, admin_a, admin_b, api_client):
    with broker_a:
        every_day()
        lead = lead_make()
        visit = appointment_make(lead=lead, agent_id=admin_a.id, start=TEN)
    # B's admin on A's host: their token does not hold there.
    foreign = api_client(A, admin_b)
    for response in (foreign.get("/api/v1/appointments/"), foreign.get("/api/v1/appointments/slots/"),
                     foreign.post("/api/v1/appointments/", {"lead_id": lead.id, "start": TEN.isoformat()},
                                  format="json"),
                     foreign.post(f"/api/v1/appointments/{visit.id}/cancel/", {"reason": "x"}, format="json")):
        assert response.status_code == 401
    # On B's own host, A's ids do not exist.
    own = api_client(B, admin_b)
    assert own.get("/api/v1/appointments/").json()["count"] == 0
    assert own.get(f"/api/v1/appointments/{visit.id}/").status_code == 404
    assert own.post(f"/api/v1/appointments/{visit.id}/cancel/", {"reason": "x"}, format="json").status_code == 404
    assert own.post("/api/v1/appointments/", {"lead_id": lead.id, "start": TEN.isoformat()},
                    format="json").status_code == 404
    assert own.get("/api/v1/appointments/slots/").json() == []  # B configured no availability
    assert api_client(A).get("/api/v1/appointments/").status_code == 401
    with broker_a:
        assert Appointment.objects.get(pk=visit.pk).status == "scheduled"
