"""The agenda in a real browser: book a visit from a free slot, drag a visit to another free time (it
stays there after a reload, and another open agenda follows live), and a drop onto a time when the
agent is busy is refused with the reason and the visit snaps back.

The live server is another process: the brokerage, its availability and visits are committed, in a
brokerage of this module's own (fresh slug), through the same services the product uses.
"""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from appointments import services as agenda
from appointments.models import Appointment, Availability, BookingSettings
from brokers.models import BrokerLeadConfig, User
from leads import services as lead_services
from tests.browser.support import (
    brokerage_with_agent,
    cookie_header,
    fetch_as,
    in_another_thread,
    log_in,
    origin,
    screenshot,
    serve_first_from,
)

pytestmark = pytest.mark.browser

SCL = ZoneInfo("America/Santiago")
SETTLE_MS = 15_000
DAY = (datetime.now(SCL) + timedelta(days=3)).date()


def at(hour: int) -> datetime:
    return datetime.combine(DAY, time(hour), tzinfo=SCL)


@pytest.fixture(scope="module")
def brokerage(cast, django_db_blocker):
    """An ADMIN, an AGENT with weekday hours 09–18, leads, and two visits on DAY at 10:00 and 12:00."""
    with django_db_blocker.unblock():
        broker, admin, agent, config = brokerage_with_agent(prefix="agenda-", name="Propiedades Andes")
        with broker:
            BookingSettings.objects.update_or_create(pk=1, defaults={"office_address": "Av. Apoquindo 4500"})
            for weekday in range(7):
                Availability.objects.create(agent_id=agent.id, weekday=weekday, start_time=time(9), end_time=time(18))
            leads = {name: lead_services.lead_create(actor=admin, data={"name": name}, config=config)
                     for name in ("Valentina Rojas", "Matías González", "Florencia Díaz", "Catalina Muñoz")}
            agenda.appointment_book(lead=leads["Valentina Rojas"], start=at(10), appointment_type="property_visit",
                                    actor=admin, agent_id=agent.id, notes="Depto 2D en Ñuñoa")
            agenda.appointment_book(lead=leads["Matías González"], start=at(12), appointment_type="property_visit",
                                    actor=admin, agent_id=agent.id)
            # The admin's own call at the same time as Valentina's visit: shown side by side.
            Appointment.objects.create(lead=leads["Catalina Muñoz"], agent_id=admin.id, appointment_type="phone_call",
                                       start_at=at(10) + timedelta(minutes=30), end_at=at(11),
                                       status=Appointment.Status.CONFIRMED)
    return broker


def book_for_a_new_lead(brokerage, name: str, *, hour: int) -> None:
    """A new lead `name` and a visit with the agent on DAY at `hour`, booked by the ADMIN (call it
    inside `django_db_blocker.unblock()` and the brokerage)."""
    admin = User.objects.get(email=f"admin@{brokerage.slug}.cl")
    agent = User.objects.get(email=f"agente@{brokerage.slug}.cl")
    lead = lead_services.lead_create(actor=admin, data={"name": name},
                                     config=BrokerLeadConfig.objects.get(broker=brokerage))
    agenda.appointment_book(lead=lead, start=at(hour), appointment_type="property_visit", actor=admin,
                            agent_id=agent.id)


def open_agenda(new_page, live_server_url, brokerage, query: str = "") -> Page:
    page = new_page()
    page.set_viewport_size({"width": 1440, "height": 1000})
    home = origin(live_server_url, brokerage.slug)
    log_in(page, home, f"admin@{brokerage.slug}.cl")
    page.goto(f"{home}/agenda/?fecha={DAY.isoformat()}{query}")
    settled(page)
    return page


def settled(page: Page) -> None:
    """Live, and done with the catch-up refresh the page makes once its socket connects."""
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=SETTLE_MS)
    expect(page.locator("#agenda")).to_have_attribute("data-refreshed", re.compile(r"\d+"), timeout=SETTLE_MS)


def visit(page: Page, lead: str):
    return page.locator(".appt", has_text=lead)


def drop_at(page: Page, lead: str, hour: int) -> None:
    """Drag the lead's visit onto DAY at `hour` (onto the day column at that cell's height: whatever
    lies on top of the cell, the drop lands on the time beneath the pointer)."""
    day = page.locator(f'.agenda-day[data-day="{DAY.isoformat()}"]')
    cell = day.locator(f'.agenda-cell[data-start="{at(hour).isoformat()}"]')
    day_box, cell_box = day.bounding_box(), cell.bounding_box()
    visit(page, lead).drag_to(day, target_position={"x": day_box["width"] / 2,
                                                    "y": cell_box["y"] - day_box["y"] + cell_box["height"] / 2})


def test_drag_a_visit_to_a_free_time_and_a_busy_one(brokerage, live_server_url, new_page):
    page = open_agenda(new_page, live_server_url, brokerage)
    other = open_agenda(new_page, live_server_url, brokerage, "&vista=dia")
    expect(visit(page, "Valentina Rojas")).to_contain_text("10:00–11:00")
    expect(page.locator(".free-slot").first).to_be_visible()
    expect(visit(page, "Catalina Muñoz")).to_have_css("grid-column-start", "2")
    screenshot(page, "agenda-week")

    drop_at(page, "Valentina Rojas", 15)
    expect(page.locator("#agenda-notice")).to_have_text("Cita reagendada.")
    expect(visit(page, "Valentina Rojas")).to_contain_text("15:00–16:00")
    expect(visit(other, "Valentina Rojas")).to_contain_text("15:00–16:00")  # live, without reloading
    page.reload()
    settled(page)
    expect(visit(page, "Valentina Rojas")).to_contain_text("15:00–16:00")

    # 12:00 is Matías's visit with the same agent: refused, and Valentina stays at 15:00.
    drop_at(page, "Valentina Rojas", 12)
    expect(page.locator("#agenda-notice")).to_have_text("Ese horario ya no está disponible. Elige otro, por favor.")
    expect(visit(page, "Valentina Rojas")).to_contain_text("15:00–16:00")
    screenshot(page, "agenda-refused")
    page.reload()
    settled(page)
    expect(visit(page, "Valentina Rojas")).to_contain_text("15:00–16:00")
    screenshot(other, "agenda-day")


def test_book_from_a_free_slot_then_confirm_and_cancel(brokerage, live_server_url, new_page):
    page = open_agenda(new_page, live_server_url, brokerage)
    slot = page.locator(f'.free-slot[data-start="{at(16).astimezone(ZoneInfo("UTC")).isoformat()}"]')
    slot.click()
    dialog = page.locator("#book-dialog")
    page.get_by_label("Lead", exact=True).fill("Flor")
    dialog.get_by_role("option", name="Florencia Díaz").click()
    expect(page.get_by_label("Lead", exact=True)).to_have_value("Florencia Díaz")
    screenshot(page, "agenda-book")
    dialog.get_by_role("button", name="Agendar", exact=True).click()
    expect(visit(page, "Florencia Díaz")).to_contain_text("16:00–17:00")

    visit(page, "Florencia Díaz").click()
    details = page.locator("#appt-dialog")
    expect(details).to_contain_text("Pablo Vera")
    expect(details).to_contain_text("Agendada")
    screenshot(page, "agenda-details")
    details.get_by_role("button", name="Confirmar cita").click()
    expect(visit(page, "Florencia Díaz")).to_have_class("appt st-confirmed")

    visit(page, "Florencia Díaz").click()
    expect(details.get_by_label("Reagendar para")).to_have_value(f"{DAY.isoformat()}T16:00")
    details.get_by_label("Reagendar para").fill(f"{DAY.isoformat()}T17:00")
    details.get_by_role("button", name="Reagendar", exact=True).click()
    expect(visit(page, "Florencia Díaz")).to_contain_text("17:00–18:00")
    expect(visit(page, "Florencia Díaz")).to_have_class("appt st-scheduled")  # a new time asks for a new confirmation

    visit(page, "Florencia Díaz").click()
    details.get_by_label("Motivo de cancelación").fill("La clienta viaja esa semana")
    details.get_by_role("button", name="Cancelar cita").click()
    page.get_by_role("dialog").filter(has_text="¿Cancelar esta cita?").get_by_role("button", name="Confirmar").click()
    expect(visit(page, "Florencia Díaz")).to_have_count(0)


def test_the_availability_page(brokerage, live_server_url, new_page):
    page = new_page()
    home = origin(live_server_url, brokerage.slug)
    log_in(page, home, f"admin@{brokerage.slug}.cl")
    page.get_by_role("navigation", name="Navegación principal").get_by_role("link", name="Agenda").click()
    page.get_by_role("link", name="Disponibilidad").click()
    expect(page.get_by_role("heading", name="Horario semanal")).to_be_visible()
    form = page.locator("form.avail-form").first
    form.get_by_label("Desde").fill("14:00")
    form.get_by_label("Hasta").fill("10:00")
    form.get_by_role("button", name="Agregar horario").click()
    expect(page.get_by_text("Debe ser posterior a la hora de inicio.")).to_be_visible()
    screenshot(page, "agenda-availability-error")

    blocks = page.locator("form.avail-form").nth(1)
    blocks.get_by_label("Ejecutivo").select_option(label="Pablo Vera")
    blocks.get_by_label("Desde").fill(f"{DAY.isoformat()}T13:00")
    blocks.get_by_label("Hasta").fill(f"{DAY.isoformat()}T14:00")
    blocks.get_by_label("Motivo").fill("Almuerzo")
    blocks.get_by_label("Se repite cada semana").check()
    blocks.get_by_role("button", name="Agregar bloqueo").click()
    expect(page.get_by_role("status")).to_have_text("Bloqueo agregado.")
    row = page.get_by_role("row").filter(has_text="Almuerzo")
    expect(row).to_contain_text("Pablo Vera")
    expect(row).to_contain_text("13:00")
    screenshot(page, "agenda-availability")
    row.get_by_role("button", name="Eliminar").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirmar").click()
    expect(page.get_by_role("status")).to_have_text("Bloqueo eliminado.")
    expect(page.get_by_role("row").filter(has_text="Almuerzo")).to_have_count(0)


def test_drag_a_visit_into_the_next_week(brokerage, live_server_url, new_page):
    """Held over "Semana siguiente" while dragging, the board shows next week; dropped there, it moves."""
    page = open_agenda(new_page, live_server_url, brokerage)
    range_before = page.locator("[data-agenda-range]").inner_text()
    matias = visit(page, "Matías González")
    expect(matias).to_contain_text("12:00–13:00")
    box = matias.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 20, box["y"] + box["height"] / 2 + 20, steps=5)
    edge = page.locator('[data-edge="next"]')
    expect(edge).to_be_visible()
    screenshot(page, "agenda-drag-edges")
    edge_box = edge.bounding_box()
    page.mouse.move(edge_box["x"] + edge_box["width"] / 2, edge_box["y"] + edge_box["height"] / 2, steps=5)
    next_day = (DAY + timedelta(days=7)).isoformat()
    day = page.locator(f'.agenda-day[data-day="{next_day}"]')
    for _ in range(50):  # hold on the edge (jiggling a pixel, so the emulated drag keeps sending dragover)
        if day.count():
            break
        page.mouse.move(edge_box["x"] + edge_box["width"] / 2 + 1, edge_box["y"] + edge_box["height"] / 2)
        page.mouse.move(edge_box["x"] + edge_box["width"] / 2, edge_box["y"] + edge_box["height"] / 2)
        page.wait_for_timeout(100)
    expect(day).to_have_count(1)
    expect(page.locator("[data-agenda-range]")).not_to_have_text(range_before)
    cell = day.locator(f'.agenda-cell[data-start="{(at(11) + timedelta(days=7)).isoformat()}"]')
    cell_box = cell.bounding_box()
    page.mouse.move(cell_box["x"] + cell_box["width"] / 2, cell_box["y"] + cell_box["height"] / 2, steps=5)
    page.mouse.up()
    expect(page.locator("#agenda-notice")).to_have_text("Cita reagendada.")
    expect(visit(page, "Matías González")).to_contain_text("11:00–12:00")
    expect(page).to_have_url(re.compile(f"fecha={(DAY + timedelta(days=7)).isoformat()}"))
    page.reload()
    settled(page)
    expect(day.locator(".appt", has_text="Matías González")).to_contain_text("11:00–12:00")
    screenshot(page, "agenda-dragged-next-week")


def test_a_change_announced_while_the_days_are_being_fetched_still_shows(brokerage, live_server_url, new_page,
                                                                        django_db_blocker):
    """Two changes announced back to back: the days fetched for the first were rendered before the second
    was booked. The agenda fetches them once more and shows it."""
    page = open_agenda(new_page, live_server_url, brokerage)
    site = origin(live_server_url, brokerage.slug)
    cookies = cookie_header(page, site)

    def days_rendered_then_a_visit_booked() -> str:
        with django_db_blocker.unblock(), brokerage:
            days = fetch_as(site, f"/agenda/?fecha={DAY.isoformat()}&parcial=1", cookies)
            book_for_a_new_lead(brokerage, "Ignacio Vera", hour=16)
            return days

    rendered_before_the_booking = in_another_thread(days_rendered_then_a_visit_booked)
    assert "Ignacio Vera" not in rendered_before_the_booking
    served = serve_first_from(page, r"/agenda/\?.*parcial=1", rendered_before_the_booking)
    page.evaluate("""() => {
        for (const event of ["appointment_updated", "appointment_created"])
            document.dispatchEvent(new CustomEvent("crm:" + event, {detail: {data: {}, ts: new Date().toISOString()}}));
    }""")
    expect(visit(page, "Ignacio Vera")).to_contain_text("16:00")
    assert len(served) == 1


def test_a_visit_booked_while_the_page_loads_shows_once_it_is_live(brokerage, live_server_url, new_page,
                                                                    django_db_blocker):
    """A visit is booked after the server rendered the agenda and before the page's own script has
    arrived (the socket could open meanwhile): the catch-up refresh on connecting still shows it."""
    page = new_page()
    site = origin(live_server_url, brokerage.slug)
    log_in(page, site, f"admin@{brokerage.slug}.cl")
    expect(page.locator("body")).to_have_attribute("data-live", "on")

    def a_visit_booked() -> None:
        with django_db_blocker.unblock(), brokerage:
            book_for_a_new_lead(brokerage, "Tomás Silva", hour=14)

    def agenda_script_late(route):
        in_another_thread(a_visit_booked)
        page.wait_for_timeout(1000)  # time enough for a socket to open
        route.continue_()

    page.route(re.compile(r"/static/js/agenda\.js"), agenda_script_late)
    page.goto(f"{site}/agenda/?fecha={DAY.isoformat()}")
    expect(visit(page, "Tomás Silva")).to_contain_text("14:00", timeout=SETTLE_MS)
