"""Google Calendar in a real browser: an agent connects through (the stub of) Google's consent page and
disconnects after confirming; the lead's timeline shows a visit rescheduled and cancelled.

The live server talks to the session's Google stub (conftest.live_server_url); the brokerage is this
module's own, committed through the product's services.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from appointments import services as agenda
from appointments.tests.factories import every_day
from leads import services as lead_services
from tests.browser.support import brokerage_with_agent, log_in, origin, screenshot

pytestmark = pytest.mark.browser

SCL = ZoneInfo("America/Santiago")
DAY = (datetime.now(SCL) + timedelta(days=3)).date()


@pytest.fixture(scope="module")
def brokerage(cast, django_db_blocker):
    with django_db_blocker.unblock():
        broker, admin, agent, config = brokerage_with_agent(prefix="gcal-", name="Propiedades Maipo")
        with broker:
            every_day(time(9), time(18))
            lead = lead_services.lead_create(actor=admin, data={"name": "Valentina Rojas"}, config=config)
            lead.assigned_to = agent
            lead.save(update_fields=["assigned_to"])
            ten = datetime.combine(DAY, time(10), tzinfo=SCL)
            visit = agenda.appointment_book(lead=lead, start=ten, appointment_type="property_visit", actor=admin)
            agenda.appointment_reschedule(appointment=visit, start=ten + timedelta(hours=2), actor=agent)
            agenda.appointment_cancel(appointment=visit, reason="Prefiere otra comuna", actor=agent)
    return broker, agent, lead


def test_an_agent_connects_and_disconnects_google_calendar(brokerage, live_server_url, google_stub, page):
    broker, agent, _lead = brokerage
    google_stub.account = "pablo.vera@gmail.com"
    home = origin(live_server_url, broker.slug)
    log_in(page, home, agent.email)
    page.goto(f"{home}/agenda/disponibilidad/")
    section = page.locator("section", has=page.get_by_role("heading", name="Google Calendar"))
    expect(section).to_contain_text("Conecta tu Google Calendar")
    screenshot(page, "google-calendar-connect")

    section.get_by_role("link", name="Conectar Google Calendar").click()  # Google's page consents at once
    expect(page).to_have_url(f"{home}/agenda/disponibilidad/")
    expect(page.locator("body")).to_contain_text("Google Calendar conectado")
    expect(section).to_contain_text("Conectado")
    screenshot(page, "google-calendar-connected")
    page.reload()
    expect(section).to_contain_text("Conectado")

    section.get_by_role("button", name="Desconectar").click()
    page.get_by_role("dialog").filter(has_text="¿Desconectar Google Calendar?").get_by_role(
        "button", name="Confirmar").click()
    expect(page.locator("body")).to_contain_text("Google Calendar desconectado.")
    expect(section.get_by_role("link", name="Conectar Google Calendar")).to_be_visible()
    assert google_stub.revoked  # the grant was revoked at Google


def test_the_lead_timeline_shows_the_visit_rescheduled_and_cancelled(brokerage, live_server_url, page):
    broker, agent, lead = brokerage
    home = origin(live_server_url, broker.slug)
    log_in(page, home, agent.email)
    page.goto(f"{home}/leads/{lead.id}/")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Visita a propiedad reagendada")
    expect(timeline).to_contain_text("10:00 → ")
    expect(timeline).to_contain_text("Visita a propiedad cancelada")
    expect(timeline).to_contain_text("Prefiere otra comuna")
    expect(timeline.locator(".timeline-appointment")).to_have_count(3)
    screenshot(page, "lead-timeline-visits")
