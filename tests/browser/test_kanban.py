"""The lead pages in a real browser: the kanban moves a card for every open board of the brokerage,
and the lead list filters and searches.

The live server is another process: the brokerage and its leads are committed, in a brokerage of
this module's own (fresh slug), through the same services the product uses.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from conversations.models import Conversation, Message
from leads import services
from pipeline.services import lead_move_stage
from tests.browser.support import brokerage_with_agent, log_in, origin, screenshot

pytestmark = pytest.mark.browser

# name, data, stage to move to afterwards (with its close reason), whether the agent gets it
LEADS = [
    ("Tomás Kanban", {"budget_amount": Decimal(3500), "budget_currency": "UF"}, None, False),
    ("Valentina Rojas", {"phone": "+56911110001", "email": "valentina@example.cl", "location": "Ñuñoa",
                         "property_type": "departamento", "budget_amount": Decimal(4000), "budget_currency": "UF",
                         "monthly_income": 3_200_000, "dicom_status": "clean", "bedrooms": 2}, None, True),
    ("Matías González", {"phone": "+56911110002", "location": "Maipú", "property_type": "casa",
                         "budget_amount": Decimal(95_000_000), "budget_currency": "CLP",
                         "monthly_income": 1_100_000, "dicom_status": "clean"}, ("agendado", ""), True),
    ("Catalina Muñoz", {"phone": "+56911110003", "email": "catalina@example.cl", "location": "Providencia",
                        "budget_amount": Decimal(6200), "budget_currency": "UF"}, None, False),
    ("Benjamín Soto", {"phone": "+56911110004", "monthly_income": 450_000, "dicom_status": "has_debt",
                       "location": "La Florida", "property_type": "departamento", "budget_amount": Decimal(2100),
                       "budget_currency": "UF"}, None, False),
    ("Josefa Castro", {"email": "josefa@example.cl", "location": "Las Condes", "property_type": "departamento",
                       "budget_amount": Decimal(8500), "budget_currency": "UF", "monthly_income": 4_500_000,
                       "dicom_status": "clean"}, ("ganado", "Firmó promesa de compraventa"), False),
    ("Agustín Pérez", {"phone": "+56911110005"}, None, True),
    ("Florencia Díaz", {"phone": "+56911110006", "email": "florencia@example.cl", "location": "Vitacura",
                        "property_type": "casa", "budget_amount": Decimal(12000), "budget_currency": "UF",
                        "monthly_income": 2_400_000, "dicom_status": "clean"}, None, False),
]


@pytest.fixture(scope="module")
def brokerage(cast, django_db_blocker):
    """A brokerage of its own with an ADMIN, an AGENT and leads in several stages (all committed)."""
    with django_db_blocker.unblock():
        broker, admin, agent, config = brokerage_with_agent(prefix="kanban-", name="Propiedades Cordillera")
        with broker:
            for name, data, move, for_agent in LEADS:
                lead = services.lead_create(actor=admin, data={"name": name, **data}, config=config)
                if for_agent:
                    services.lead_assign(lead=lead, actor=admin, agent=agent)
                if move:
                    lead_move_stage(lead=lead, stage=move[0], close_reason=move[1], actor=admin, config=config,
                                    reason="Visita confirmada por teléfono" if not move[1] else "")
                if name == "Valentina Rojas":
                    conversation = Conversation.objects.create(lead=lead, channel="whatsapp",
                                                               channel_user_id="56911110001")
                    for sender, text in (("lead", "Hola, busco depto de 2 dormitorios en Ñuñoa, hasta 4.000 UF"),
                                         ("assistant", "¡Hola Valentina! ¿Cuál es tu renta mensual aproximada?"),
                                         ("lead", "Gano 3,2 millones líquidos y no tengo DICOM")):
                        Message.objects.create(conversation=conversation, channel="whatsapp", sender=sender,
                                               direction="in" if sender == "lead" else "out", text=text,
                                               status="processed" if sender == "lead" else "delivered")
    return broker


def board_column(page: Page, label: str):
    return page.locator(".kcol", has=page.get_by_role("heading", name=label, exact=True))


def open_board(new_page, live_server_url, brokerage) -> Page:
    page = new_page()
    page.set_viewport_size({"width": 1600, "height": 900})  # every stage in view: the drags stay on screen
    home = origin(live_server_url, brokerage.slug)
    log_in(page, home, f"admin@{brokerage.slug}.cl")
    page.goto(f"{home}/pipeline/")
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    return page


def test_a_card_dragged_on_one_board_moves_on_every_open_board(brokerage, live_server_url, new_page):
    # (the brokerage before Chromium: the data is made outside Playwright's event loop)
    first = open_board(new_page, live_server_url, brokerage)
    second = open_board(new_page, live_server_url, brokerage)
    for page in (first, second):
        expect(board_column(page, "Entrada").locator(".kcard", has_text="Tomás Kanban")).to_be_visible()
        expect(board_column(page, "Perfilamiento").locator("[data-count]")).to_have_text("2")
    screenshot(first, "leads-kanban")

    card = board_column(first, "Entrada").locator(".kcard", has_text="Tomás Kanban")
    card.drag_to(board_column(first, "Perfilamiento").locator(".kcol-list"))

    for page in (first, second):
        moved = board_column(page, "Perfilamiento").locator(".kcard", has_text="Tomás Kanban")
        expect(moved).to_be_visible()
        expect(moved).to_contain_text("3.500 UF")
        expect(board_column(page, "Entrada").locator(".kcard", has_text="Tomás Kanban")).to_have_count(0)
        expect(board_column(page, "Perfilamiento").locator("[data-count]")).to_have_text("3")
    screenshot(second, "leads-kanban-live")

    # Closing asks for the reason; cancelling leaves the card where it was.
    board_column(first, "Perfilamiento").locator(".kcard", has_text="Tomás Kanban").drag_to(
        board_column(first, "Perdido").locator(".kcol-list"))
    dialog = first.get_by_role("dialog")
    expect(dialog).to_contain_text("Perdido")
    dialog.get_by_role("button", name="Cancelar").click()
    expect(board_column(first, "Perfilamiento").locator(".kcard", has_text="Tomás Kanban")).to_be_visible()

    board_column(first, "Perfilamiento").locator(".kcard", has_text="Tomás Kanban").drag_to(
        board_column(first, "Perdido").locator(".kcol-list"))
    dialog.get_by_label("Motivo de cierre").fill("Compró con otra corredora")
    screenshot(first, "leads-kanban-close-dialog")
    dialog.get_by_role("button", name="Cerrar lead").click()
    expect(board_column(second, "Perdido").locator(".kcard", has_text="Tomás Kanban")).to_be_visible()
    expect(board_column(second, "Perdido").locator("[data-count]")).to_have_text("2")  # with Benjamín


def test_the_lead_list_filters_searches_and_opens_a_lead(brokerage, live_server_url, new_page):
    page = new_page()
    home = origin(live_server_url, brokerage.slug)
    log_in(page, home, f"admin@{brokerage.slug}.cl")
    expect(page.get_by_role("heading", name="Embudo de ventas")).to_be_visible()
    screenshot(page, "leads-home-charts")

    page.get_by_role("navigation", name="Navegación principal").get_by_role("link", name="Leads").click()
    rows = page.locator(".lead-table tbody tr")
    expect(rows).to_have_count(len(LEADS))
    expect(page.get_by_role("row").filter(has_text="Matías González")).to_contain_text("$95.000.000")
    screenshot(page, "leads-list")

    page.get_by_label("DICOM").select_option(label="Sin deudas")
    page.get_by_role("button", name="Filtrar").click()
    expect(rows).to_have_count(4)  # Valentina, Matías, Josefa, Florencia
    page.get_by_label("Buscar").fill("flor")
    page.get_by_role("button", name="Filtrar").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Florencia Díaz")
    expect(rows.first).to_contain_text("12.000 UF")
    screenshot(page, "leads-list-filtered")

    page.get_by_role("link", name="Limpiar").click()
    page.get_by_label("Ejecutivo").select_option(label="Pablo Vera")
    page.get_by_role("button", name="Filtrar").click()
    expect(rows).to_have_count(3)
    page.get_by_role("link", name="Valentina Rojas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Valentina Rojas")
    expect(page.locator(".lead-chat")).to_contain_text("Gano 3,2 millones")
    expect(page.get_by_role("link", name="Abrir conversación · WhatsApp")).to_be_visible()
    screenshot(page, "leads-detail")

    page.get_by_text("Editar datos").click()
    page.get_by_label("Comuna o ciudad").fill("Macul")
    screenshot(page, "leads-detail-edit")
    page.get_by_role("button", name="Guardar cambios").click()
    expect(page.get_by_role("status")).to_have_text("Datos del lead guardados.")
    expect(page.locator(".lead-facts")).to_contain_text("Macul")
    expect(page.locator(".timeline")).to_contain_text("Datos actualizados: comuna o ciudad")


def test_admin_bulk_assigns_after_confirming(brokerage, live_server_url, new_page):
    page = new_page()
    home = origin(live_server_url, brokerage.slug)
    log_in(page, home, f"admin@{brokerage.slug}.cl")
    page.goto(f"{home}/leads/?search=catalina")
    page.get_by_label("Seleccionar a Catalina Muñoz").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("1 seleccionado")
    page.get_by_label("Asignar a").select_option(label="Pablo Vera")
    page.get_by_role("button", name="Asignar seleccionados").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirmar").click()
    expect(page.get_by_role("status")).to_contain_text("Se asignaron 1 de 1 leads.")
    expect(page.get_by_role("row").filter(has_text="Catalina Muñoz")).to_contain_text("Pablo Vera")
