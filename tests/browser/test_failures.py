"""Conversaciones → Fallidos in a real browser: the ADMIN retries a reply that failed for good (the real
worker sends it this time) and dismisses another after confirming."""

import pytest
from playwright.sync_api import expect

from brokers.models import BrokerChatConfig
from conftest import committed_brokerage
from conversations.models import Conversation, DeadLetter, Message
from leads.models import Lead
from tests.browser.support import log_in, origin, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.worker]

SENT_MS = 30_000  # retry → worker → Telegram stub, on a busy test machine


@pytest.fixture(scope="module")
def brokerage(cast, django_db_blocker):
    """A brokerage with a Telegram bot and two replies that failed for good (committed: the worker reads it)."""
    with django_db_blocker.unblock():
        broker = committed_brokerage("fallidos", "Propiedades del Maule", admin_name="Daniela Rojas")
        BrokerChatConfig.objects.filter(broker=broker).update(telegram_bot_token="888:fallidos-token")
        with broker:
            for name, chat, text in (("Tomás Fuentes", "8801", "¿Te acomoda visitar el depto el sábado?"),
                                     ("Josefa Tapia", "8802", "Te envío la ficha de la casa en La Reina.")):
                lead = Lead.objects.create(name=name, channel="telegram", channel_user_id=chat)
                conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id=chat)
                reply = Message.objects.create(conversation=conversation, channel="telegram", direction="out",
                                               sender="assistant", text=text, status="failed",
                                               error="Telegram 502: Bad Gateway")
                DeadLetter.objects.create(message=reply, task="conversations.send_outbound", attempts=5,
                                          error="RetryableSendError('Telegram 502: Bad Gateway')")
        return broker


def test_the_admin_retries_one_failure_and_dismisses_the_other(
        brokerage, live_server_url, celery_worker_process, channel_stubs, new_page):  # brokerage before Chromium
    page = new_page()
    site = origin(live_server_url, brokerage.slug)
    log_in(page, site, f"admin@{brokerage.slug}.cl")
    attention = page.get_by_role("region", name="Requiere tu atención")  # the home page says so first
    expect(attention).to_contain_text("2 mensajes fallaron aun después de reintentarlos")
    expect(attention).to_contain_text("2 respuestas no salieron por su canal")
    screenshot(page, "home-attention")
    attention.get_by_role("link", name="2 mensajes fallaron aun después de reintentarlos").click()
    expect(page).to_have_url(f"{site}/conversaciones/fallidos/")
    tab = page.get_by_role("navigation", name="Bandejas").get_by_role("link", name="Fallidos")
    expect(tab).to_contain_text("2")
    rows = page.locator(".failures-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Tomás Fuentes")).to_contain_text("Respuesta que no salió")
    expect(rows.filter(has_text="Tomás Fuentes")).to_contain_text("Bad Gateway")
    screenshot(page, "inbox-failures")

    rows.filter(has_text="Tomás Fuentes").get_by_role("button", name="Reintentar").click()
    expect(page.get_by_role("status")).to_contain_text("Se volvió a poner en cola")
    expect(rows).to_have_count(1)
    # The worker sends it this time: its bubble in the chat says so (live, or already on opening).
    page.goto(f"{site}/conversaciones/")
    page.locator(".conv").filter(has_text="Tomás Fuentes").get_by_role("link").click()
    expect(page.locator("#chat-log .bubble-assistant .msg-status")).to_have_text("Enviado", timeout=SENT_MS)
    assert "¿Te acomoda visitar el depto el sábado?" in channel_stubs["telegram"].sent_texts()

    # The other one is dismissed, after confirming: the list is empty, the reply stays failed.
    page.goto(f"{site}/conversaciones/fallidos/")
    rows.filter(has_text="Josefa Tapia").get_by_role("button", name="Descartar").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("¿Quitar este fallo de la lista sin reintentarlo?")
    screenshot(page, "inbox-failures-dismiss-dialog")
    dialog.get_by_role("button", name="Confirmar").click()
    expect(page.get_by_role("status")).to_contain_text("Se quitó de la lista.")
    expect(page.get_by_role("heading", name="No hay fallos pendientes")).to_be_visible()
    expect(tab).to_have_text("Fallidos")  # no count left
    screenshot(page, "inbox-failures-empty")
    page.goto(f"{site}/conversaciones/bandeja-de-salida/")
    expect(page.locator(".outbox-table tbody tr").filter(has_text="Josefa Tapia")).to_contain_text("Error de envío")
