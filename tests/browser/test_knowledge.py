"""The knowledge base in a real browser, with the real Celery worker embedding: an ADMIN types a
document, sees it listed and its progress reach "Listo" without reloading, searches it and sees the
passage with its score, then deletes it after confirming. An AGENT sees no write buttons."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import brokerage_with_agent, log_in, origin, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.fixture(scope="module")
def brokerage(cast, django_db_blocker):
    with django_db_blocker.unblock():
        broker = brokerage_with_agent(prefix="kb-", name="Inmobiliaria Cordillera")[0]
    return broker


def test_admin_adds_a_document_that_is_embedded_live_searched_and_deleted(
        brokerage, live_server_url, celery_worker_process, new_page):
    page = new_page()
    home = origin(live_server_url, brokerage.slug)
    log_in(page, home, f"admin@{brokerage.slug}.cl")
    page.get_by_role("link", name="Base de conocimiento").click()
    expect(page.get_by_role("heading", name="La base de conocimiento está vacía")).to_be_visible()

    page.get_by_role("link", name="Nuevo documento").first.click()
    page.get_by_label("Título").fill("Mascotas en los edificios")
    page.get_by_label("Tipo").select_option("policy")
    page.get_by_label("Contenido").fill("Se permiten perros y gatos en todos nuestros edificios, con un máximo "
                                        "de dos mascotas por departamento.")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("Documento guardado")).to_be_visible()
    row = page.locator("tr", has_text="Mascotas en los edificios")
    expect(row).to_contain_text("Política")
    # The worker embeds it; the page follows by itself (no reload) until it is ready.
    expect(row.locator("[data-status-label]")).to_have_text("Listo", timeout=30_000)
    expect(row.locator("progress")).to_have_count(0)

    page.get_by_label("Buscar", exact=True).fill("¿aceptan perros?")
    page.get_by_role("button", name="Buscar").click()
    hit = page.locator(".kb-hit").first
    expect(hit).to_contain_text("Mascotas en los edificios")
    expect(hit).to_contain_text("Se permiten perros y gatos")
    expect(hit.locator(".kb-score")).to_have_text(re.compile(r"0,\d\d"))
    expect(page.locator('[data-stat="misses"]')).to_have_text("0")
    screenshot(page, "knowledge-search")

    agent = new_page()
    log_in(agent, home, f"agente@{brokerage.slug}.cl")
    agent.goto(f"{home}/conocimiento/")
    expect(agent.locator("tr", has_text="Mascotas en los edificios")).to_be_visible()
    expect(agent.get_by_role("link", name="Nuevo documento")).to_have_count(0)
    expect(agent.get_by_role("button", name="Eliminar")).to_have_count(0)
    screenshot(agent, "knowledge-agent")

    page.goto(f"{home}/conocimiento/")
    page.locator("tr", has_text="Mascotas en los edificios").get_by_role("button", name="Eliminar").click()
    dialog = page.locator("dialog")
    expect(dialog).to_contain_text("¿Eliminar «Mascotas en los edificios»?")
    dialog.get_by_role("button", name="Confirmar").click()
    expect(page.get_by_text("Documento «Mascotas en los edificios» eliminado.")).to_be_visible()
    expect(page.get_by_role("heading", name="La base de conocimiento está vacía")).to_be_visible()
