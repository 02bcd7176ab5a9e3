"""The real path: HTTP webhook on the ASGI server → stored → real Celery worker → reply sent."""

import json
import time

import httpx2 as httpx
import pytest

from brokers.models import BrokerChatConfig
from conftest import committed_brokerage
from conversations.models import Message
from conversations.tests.channel_stubs import telegram_update
from leads.models import Lead

pytestmark = pytest.mark.worker


@pytest.fixture(scope="module")
def e2e_broker(cast, django_db_blocker):
    """A brokerage of its own (committed: the server and the worker are other processes)."""
    with django_db_blocker.unblock():
        broker = committed_brokerage("e2e", "Corredora E2E", admin_name="Admin E2E")
        config = BrokerChatConfig.objects.get(broker=broker)
        config.telegram_bot_token, config.telegram_secret_token = "999:e2e-token", "e2e-secret"
        config.save()
        return broker


def wait_for(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_webhook_to_reply_through_the_real_worker(e2e_broker, live_server_url, celery_worker_process,
                                                  channel_stubs, django_db_blocker):
    telegram = channel_stubs["telegram"]
    sent_before = len(telegram.sent_texts())
    url = f"{live_server_url}/webhooks/telegram/{e2e_broker.slug}/"
    update = telegram_update(880001, "Hola, soy Camila y busco casa en La Florida", chat_id=4242)
    headers = {"X-Telegram-Bot-Api-Secret-Token": "e2e-secret"}

    first = httpx.post(url, content=json.dumps(update), headers=headers, timeout=10)
    redelivery = httpx.post(url, content=json.dumps(update), headers=headers, timeout=10)

    assert first.json() == {"ok": True, "stored": True} and redelivery.json() == {"ok": True, "stored": False}
    sent = wait_for(lambda: telegram.sent_texts()[sent_before:])
    assert "Camila" in sent[0]
    time.sleep(1)  # a redelivery must not produce a second reply
    assert len(telegram.sent_texts()) == sent_before + 1
    with django_db_blocker.unblock(), e2e_broker:
        lead = Lead.objects.get(channel_user_id="4242")
        assert (lead.name, lead.location, lead.property_type) == ("Camila", "La Florida", "casa")
        statuses = sorted(Message.objects.values_list("direction", "status"))
    assert statuses == [("in", "processed"), ("out", "sent")]


def test_a_reply_the_turn_could_not_send_is_retried_by_the_worker_not_lost(
        e2e_broker, live_server_url, celery_worker_process, channel_stubs, django_db_blocker):
    """The turn sends its own reply; Telegram failing that first attempt leaves it to send_outbound."""
    telegram = channel_stubs["telegram"]
    telegram.fail_next(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    update = telegram_update(880101, "Hola, soy Rocío y busco depto en Macul", chat_id=4343)
    response = httpx.post(f"{live_server_url}/webhooks/telegram/{e2e_broker.slug}/", content=json.dumps(update),
                          headers={"X-Telegram-Bot-Api-Secret-Token": "e2e-secret"}, timeout=10)
    assert response.json() == {"ok": True, "stored": True}

    def reply_status():
        with django_db_blocker.unblock(), e2e_broker:
            return (Message.objects.filter(direction="out", conversation__channel_user_id="4343")
                    .values_list("status", "attempts").first())

    assert wait_for(lambda: reply_status() if reply_status() and reply_status()[0] == "sent" else None) == ("sent", 2)
    attempts = [r for r in telegram.requests if r["path"].endswith("/sendMessage") and r["json"]["chat_id"] == "4343"]
    assert len(attempts) == 2 and attempts[0]["json"]["text"] == attempts[1]["json"]["text"]
