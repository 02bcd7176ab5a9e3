"""The live inbox in a real browser: a lead writes on Telegram, the real worker answers, and the broker
sees both arrive without reloading; then takes over, replies by hand and hands back to the assistant.

The ASGI server and the Celery worker are other processes: the brokerage here is committed, with a slug
of its own on every run.
"""

import json
import re
from datetime import timedelta

import httpx2 as httpx
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from brokers.models import BrokerChatConfig
from conftest import committed_brokerage
from conversations.models import Conversation, Message
from conversations.tests.channel_stubs import telegram_update
from leads.models import Lead
from tests.browser.support import (
    cookie_header,
    fetch_as,
    in_another_thread,
    log_in,
    origin,
    screenshot,
    serve_first_from,
)

pytestmark = [pytest.mark.browser, pytest.mark.worker]

TELEGRAM_SECRET = "inbox-secret"
LIVE_MS = 30_000  # webhook → worker → assistant reply → WebSocket, on a busy test machine


@pytest.fixture(scope="module")
def brokerage(cast, django_db_blocker):
    """A brokerage with a Telegram bot connected (committed: the server and the worker read it)."""
    with django_db_blocker.unblock():
        broker = committed_brokerage("inbox", "Propiedades del Valle", admin_name="Daniela Rojas")
        config = BrokerChatConfig.objects.get(broker=broker)
        config.telegram_bot_token, config.telegram_secret_token = "777:inbox-token", TELEGRAM_SECRET
        config.save()
        with broker:
            _earlier_conversations()
        return broker


def _earlier_conversations() -> None:
    """Two conversations from yesterday whose replies did not go out: they fill the outbox."""
    yesterday = timezone.now() - timedelta(days=1)
    for name, channel, status, text in (
        ("Rodrigo Muñoz", "whatsapp", Message.Status.NEEDS_TEMPLATE, "Rodrigo, ¿sigues buscando casa en Maipú?"),
        ("Valentina Reyes", "webchat", Message.Status.FAILED, "¿Te acomoda una visita el lunes?"),
    ):
        lead = Lead.objects.create(name=name, channel=channel, channel_user_id=name.split()[0].lower())
        conversation = Conversation.objects.create(lead=lead, channel=channel, channel_user_id=lead.channel_user_id,
                                                   last_message_at=yesterday)
        Message.objects.create(conversation=conversation, channel=channel, direction="out", sender="assistant",
                               text=text, status=status, error="chat not found" if status == "failed" else "")
        Message.objects.filter(conversation=conversation).update(created_at=yesterday)


def lead_writes(live_server_url: str, slug: str, update_id: int, text: str) -> None:
    update = telegram_update(update_id, text, chat_id=7070, first_name="Camila")
    response = httpx.post(f"{live_server_url}/webhooks/telegram/{slug}/", content=json.dumps(update),
                          headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, timeout=10)
    assert response.json() == {"ok": True, "stored": True}


def wait_until_live(page: Page) -> None:
    expect(page.locator("body[data-live=on]")).to_have_count(1)


def bubbles(page: Page, sender: str):
    return page.locator(f"#chat-log .bubble-{sender}")


def test_messages_arrive_live_then_the_admin_takes_over_replies_and_hands_back(
        brokerage, live_server_url, celery_worker_process, channel_stubs, new_page):  # brokerage before Chromium
    page = new_page()
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(error))
    site = origin(live_server_url, brokerage.slug)
    log_in(page, site, f"admin@{brokerage.slug}.cl")
    page.get_by_role("navigation", name="Navegación principal").get_by_role("link", name="Conversaciones").click()
    expect(page).to_have_url(f"{site}/conversaciones/")
    expect(page.locator(".conv")).to_have_count(2)
    wait_until_live(page)
    page.evaluate("window.sameDocument = true")
    screenshot(page, "inbox-list")

    # A new lead writes: the conversation appears at the top of the list, unread, without a reload.
    lead_writes(live_server_url, brokerage.slug, 990001, "Hola, soy Camila y busco depto en Ñuñoa")
    row = page.locator(".conv").filter(has_text="Camila")
    expect(row).to_be_visible(timeout=LIVE_MS)
    expect(row.locator(".unread-count")).to_have_text("1 sin leer")
    expect(row).to_contain_text("Telegram")
    expect(page.locator(".conv").first).to_contain_text("Camila")  # on top of yesterday's
    expect(row.locator(".conv-preview")).not_to_have_text("Hola, soy Camila y busco depto en Ñuñoa",
                                                          timeout=LIVE_MS)  # the assistant's reply came after
    expect(row.locator(".conv-time")).to_have_text(re.compile(r"^\d\d:\d\d$"))  # today, Santiago time
    assert page.evaluate("window.sameDocument") is True
    screenshot(page, "inbox-new-conversation")

    # Opened: the chat, oldest first, and the lead's data; then the next turn arrives live.
    row.get_by_role("link").click()
    expect(bubbles(page, "lead")).to_have_count(1)
    expect(bubbles(page, "assistant")).to_have_count(1)
    expect(bubbles(page, "assistant").first).to_contain_text("Propiedades del Valle")
    expect(page.locator(".lead-panel")).to_contain_text("Ñuñoa")
    wait_until_live(page)
    page.evaluate("window.sameDocument = true")

    # "escribiendo…" shows on the typing event (dispatched here as app.js would, so it cannot be missed)
    # and the assistant's real reply clears it.
    typing = page.locator("#chat-typing")
    expect(typing).to_be_hidden()
    page.evaluate("""id => document.dispatchEvent(new CustomEvent("crm:typing",
        {detail: {data: {conversation_id: id}, ts: new Date().toISOString()}}))""",
                  int(page.locator("#chat").get_attribute("data-conversation-id")))
    expect(typing).to_have_text("El asistente está escribiendo…")
    screenshot(page, "inbox-typing")

    lead_writes(live_server_url, brokerage.slug, 990002, "Mi presupuesto es de 4.000 UF")
    expect(bubbles(page, "lead").last).to_contain_text("Mi presupuesto es de 4.000 UF", timeout=LIVE_MS)
    expect(bubbles(page, "assistant")).to_have_count(2, timeout=LIVE_MS)
    expect(typing).to_be_hidden()
    expect(bubbles(page, "assistant").last.locator(".msg-status")).to_have_text("Enviado", timeout=LIVE_MS)
    expect(row.locator(".unread-count")).to_be_hidden()  # it is open: read as it arrives
    expect(page.locator(".lead-panel")).to_contain_text("4.000 UF", timeout=LIVE_MS)  # what the assistant learnt
    assert page.evaluate("window.sameDocument") is True
    screenshot(page, "inbox-chat-live")

    # Take over, reply by hand: sent through Telegram, attributed to the admin.
    page.get_by_role("button", name="Tomar conversación").click()
    expect(page.get_by_role("status")).to_contain_text("Tomaste la conversación")
    expect(page.locator(".chat-head .badge-human")).to_contain_text("Atendida por persona · Daniela Rojas")
    expect(row.locator(".badge-human")).to_be_visible()
    reply = "Hola Camila, soy Daniela. ¿Te acomoda visitar el depto el sábado a las 11:00?"
    page.get_by_label("Respuesta").fill(reply)
    page.get_by_role("button", name="Enviar").click()
    mine = bubbles(page, "agent").last
    expect(mine).to_contain_text(reply)
    expect(mine.locator(".bubble-who")).to_have_text("Daniela Rojas")
    wait_until_live(page)
    expect(mine.locator(".msg-status")).to_have_text("Enviado", timeout=LIVE_MS)
    assert reply in channel_stubs["telegram"].sent_texts()
    screenshot(page, "inbox-human-reply")

    # Hand back, with a note for the assistant.
    page.get_by_role("button", name="Devolver al asistente").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Nota para el asistente (opcional)").fill("Le ofrecí visita el sábado a las 11:00.")
    screenshot(page, "inbox-hand-back-dialog")
    dialog.get_by_role("button", name="Devolver", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("El asistente vuelve a responder")
    expect(page.locator(".chat-head .badge-ai")).to_be_visible()
    expect(page.get_by_role("button", name="Tomar conversación")).to_be_visible()
    expect(row.locator(".badge-human")).to_be_hidden()
    assert script_errors == []


def test_the_outbox_lists_replies_that_did_not_go_out(brokerage, live_server_url, new_page):
    page = new_page()
    site = origin(live_server_url, brokerage.slug)
    log_in(page, site, f"admin@{brokerage.slug}.cl")
    page.goto(f"{site}/conversaciones/")
    page.get_by_role("link", name="Bandeja de salida").click()
    rows = page.locator(".outbox-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Rodrigo Muñoz")).to_contain_text("Requiere plantilla")
    expect(rows.filter(has_text="Valentina Reyes")).to_contain_text("Error de envío")
    screenshot(page, "inbox-outbox")
    rows.filter(has_text="Rodrigo Muñoz").get_by_role("link", name="Abrir conversación").click()
    expect(page.locator(".bubble-assistant .msg-status")).to_have_text("Requiere plantilla")


def test_a_reply_that_overtakes_the_new_rows_rendering_still_shows_in_the_list(
        brokerage, live_server_url, new_page, django_db_blocker):
    """The lead's message and the assistant's reply arrive together; the row the page fetched for the first
    comes back showing only the lead's message. The list ends up showing the reply all the same."""
    page = new_page()
    site = origin(live_server_url, brokerage.slug)
    log_in(page, site, f"admin@{brokerage.slug}.cl")
    page.goto(f"{site}/conversaciones/")
    wait_until_live(page)
    cookies = cookie_header(page, site)

    def the_row_rendered_then_the_reply() -> tuple[int, str]:
        with django_db_blocker.unblock(), brokerage:
            lead = Lead.objects.create(name="Ignacio Soto", channel="telegram", channel_user_id="8080")
            conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="8080",
                                                       last_message_at=timezone.now())
            Message.objects.create(conversation=conversation, channel="telegram", direction="in", sender="lead",
                                   text="Busco casa en Maipú")
            row = fetch_as(site, f"/conversaciones/{conversation.id}/fila/", cookies)
            Message.objects.create(conversation=conversation, channel="telegram", direction="out",
                                   sender="assistant", text="¡Hola Ignacio! ¿Qué presupuesto tienes?",
                                   status=Message.Status.SENT)
            return conversation.id, row

    conversation_id, rendered_before_the_reply = in_another_thread(the_row_rendered_then_the_reply)
    assert "Busco casa en Maipú" in rendered_before_the_reply
    served = serve_first_from(page, re.escape(f"/conversaciones/{conversation_id}/fila/"), rendered_before_the_reply)
    page.evaluate("""id => {
        const ts = new Date().toISOString();
        for (const [event, sender, text] of [["new_message", "lead", "Busco casa en Maipú"],
                                             ["ai_response", "assistant", "¡Hola Ignacio! ¿Qué presupuesto tienes?"]])
            document.dispatchEvent(new CustomEvent("crm:" + event,
                {detail: {data: {conversation_id: id, sender: sender, text: text}, ts: ts}}));
    }""", conversation_id)
    row = page.locator(".conv").filter(has_text="Ignacio Soto")
    expect(row.locator(".conv-preview")).to_have_text("¡Hola Ignacio! ¿Qué presupuesto tienes?")
    assert len(served) == 1


def test_the_outbox_badge_counts_a_reply_that_could_not_go_out_without_reloading(
        cast, live_server_url, celery_worker_process, new_page, django_db_blocker):
    """A brokerage whose Telegram bot has no token: the assistant's reply lands in the outbox, and the
    open inbox's "Bandeja de salida" tab shows it."""
    def brokerage_without_bot_token():
        with django_db_blocker.unblock():
            broker = committed_brokerage("sinbot", "Corredora Sin Bot")
            BrokerChatConfig.objects.filter(broker=broker).update(telegram_bot_token="",
                                                                  telegram_secret_token=TELEGRAM_SECRET)
            return broker

    broker = in_another_thread(brokerage_without_bot_token)
    page = new_page()
    site = origin(live_server_url, broker.slug)
    log_in(page, site, f"admin@{broker.slug}.cl")
    page.goto(f"{site}/conversaciones/")
    wait_until_live(page)
    tabs = page.get_by_role("navigation", name="Bandejas")
    outbox_tab = tabs.get_by_role("link", name=re.compile("Bandeja de salida"))
    expect(outbox_tab).to_have_text("Bandeja de salida")

    lead_writes(live_server_url, broker.slug, 9_100, "Hola, busco casa en Peñalolén")
    expect(outbox_tab).to_have_text("Bandeja de salida 1", timeout=LIVE_MS)
    expect(tabs.get_by_role("link", name="Conversaciones")).to_have_attribute("aria-current", "page")
    screenshot(page, "inbox-outbox-badge")
