"""Calendar files, parsed back with a real iCalendar parser."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from appointments import services
from appointments.tests.factories import appointment_make
from brokers.models import User
from leads.tests.factories import lead_make

SCL = ZoneInfo("America/Santiago")
START = datetime.now(SCL).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=3)


def parsed(response) -> Calendar:
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


@pytest.mark.django_db
def test_an_agents_secret_feed_lists_their_visits_and_dies_with_a_new_token(broker_a, agent_a, admin_a,
                                                                             page_client):
    with broker_a:
        lead = lead_make(name="Camila Rojas", phone="+56987654321")
        visit = appointment_make(lead=lead, agent_id=agent_a.id, start=START, location="Los Leones 100, Providencia")
        dropped = appointment_make(lead=lead, agent_id=agent_a.id, start=START + timedelta(days=1),
                                   status="cancelled", cancel_reason="No puede")
        appointment_make(lead=lead, agent_id=admin_a.id, start=START)  # someone else's
        feed = services.calendar_feed_get(agent=agent_a)
    client = page_client("alfa.localhost")  # no session: calendar apps fetch the URL on their own

    events = {str(e["uid"]): e for e in parsed(client.get(f"/calendario/{feed.token}.ics")).walk("VEVENT")}
    assert set(events) == {f"appointment-{visit.id}@{broker_a.schema_name}.localhost",
                           f"appointment-{dropped.id}@{broker_a.schema_name}.localhost"}
    event = events[f"appointment-{visit.id}@{broker_a.schema_name}.localhost"]
    assert event.decoded("dtstart") == START and event.decoded("dtend") == START + timedelta(hours=1)
    assert str(event["summary"]) == "Visita: Camila Rojas" and "+56987654321" in str(event["description"])
    assert str(event["location"]) == "Los Leones 100, Providencia" and str(event["status"]) == "TENTATIVE"
    assert str(events[f"appointment-{dropped.id}@{broker_a.schema_name}.localhost"]["status"]) == "CANCELLED"

    with broker_a:
        services.calendar_feed_rotate(agent=agent_a)
    assert client.get(f"/calendario/{feed.token}.ics").status_code == 404


@pytest.mark.django_db
def test_a_feed_is_dead_on_another_brokerages_host_and_for_a_deactivated_agent(broker_a, broker_b, agent_a,
                                                                                page_client):
    with broker_a:
        feed = services.calendar_feed_get(agent=agent_a)
    assert page_client("beta.localhost").get(f"/calendario/{feed.token}.ics").status_code == 404
    User.objects.filter(pk=agent_a.pk).update(is_active=False)
    assert page_client("alfa.localhost").get(f"/calendario/{feed.token}.ics").status_code == 404


@pytest.mark.django_db
def test_the_leads_invite_downloads_with_its_signed_link_only_on_its_brokerage(broker_a, agent_a, admin_a,
                                                                               api_client, page_client):
    with broker_a:
        visit = appointment_make(lead=lead_make(name="Ana"), agent_id=agent_a.id, start=START,
                                 appointment_type="virtual_meeting", meeting_url="https://meet.example.com/abc-defg")
    path = api_client("alfa.localhost", admin_a).get(f"/api/v1/appointments/{visit.id}/").json()["invite_path"]

    events = list(parsed(page_client("alfa.localhost").get(path)).walk("VEVENT"))
    assert len(events) == 1 and events[0].decoded("dtstart") == START
    assert str(events[0]["summary"]) == "Reunión virtual con Corredora Alfa"
    assert str(events[0]["url"]) == "https://meet.example.com/abc-defg"
    assert "Agente Corredora Alfa" in str(events[0]["description"])
    assert page_client("beta.localhost").get(path).status_code == 404
    assert page_client("alfa.localhost").get(path.replace(".ics", "x.ics")).status_code == 404
