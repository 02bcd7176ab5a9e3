"""The web chat widget as a visitor on the brokerage's website uses it: open it, write, get the
assistant's answer (real server, real worker), and the brokerage gets a qualified lead."""


import pytest
from playwright.sync_api import Page, expect

from conftest import committed_brokerage
from leads.models import Lead
from tests.browser.support import in_another_thread, origin, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.worker]

REPLY_MS = 30_000


@pytest.fixture(scope="module")
def brokerage(cast, django_db_blocker):
    with django_db_blocker.unblock():
        return committed_brokerage("widget", "Corredora Widget", admin_name="Admin Widget")


def test_visitor_chats_through_the_widget(brokerage, live_server_url, celery_worker_process, django_db_blocker,
                                          page: Page):
    site = origin(live_server_url, brokerage.slug)
    # The brokerage's own website would embed the script; its login page stands in for that site here.
    page.goto(f"{site}/login/")
    page.add_script_tag(url=f"{site}/static/js/widget.js")

    page.get_by_role("button", name="Abrir chat").click()
    chat = page.get_by_role("dialog", name="Chat")
    expect(chat).to_be_visible()
    chat.get_by_label("Mensaje").fill("Hola, me llamo Ignacio y busco depto en Providencia")
    chat.get_by_role("button", name="Enviar").click()

    expect(chat.locator(".crmw-in")).to_have_text("Hola, me llamo Ignacio y busco depto en Providencia")
    expect(chat.locator(".crmw-out").first).to_contain_text("Ignacio", timeout=REPLY_MS)
    screenshot(page, "widget-chat")

    def webchat_lead() -> Lead:
        with django_db_blocker.unblock(), brokerage:
            return Lead.objects.get(channel="webchat")

    lead = in_another_thread(webchat_lead)
    assert (lead.name, lead.location, lead.property_type) == ("Ignacio", "Providencia", "departamento")
