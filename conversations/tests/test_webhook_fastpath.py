"""The webhooks' POSTs on the real ASGI server (uvicorn), which answers them outside Django's
request handling: stored in the right brokerage before the 200, once, with the same refusals."""

import hashlib
import hmac
import json
import uuid

import httpx2 as httpx
import pytest

from brokers.models import BrokerChatConfig
from conftest import committed_brokerage
from conversations.models import InboundEvent
from conversations.tests.channel_stubs import telegram_update, whatsapp_payload, whatsapp_text


def _brokerage(django_db_blocker, *, number: str):
    """A committed brokerage (the server is another process) with Telegram and WhatsApp connected."""
    with django_db_blocker.unblock():
        broker = committed_brokerage("fp", "Corredora Fast Path")
        slug = broker.slug
        config = BrokerChatConfig.objects.get(broker=broker)
        config.telegram_secret_token, config.whatsapp_app_secret = f"tg-{slug}", f"wa-{slug}"
        config.whatsapp_phone_number_id = number
        config.save()
        return broker


@pytest.fixture(scope="module")
def brokerages(cast, django_db_blocker):
    suffix = uuid.uuid4().int % 10**8
    return (_brokerage(django_db_blocker, number=f"1{suffix:08d}1"),
            _brokerage(django_db_blocker, number=f"1{suffix:08d}2"))


def events(broker, django_db_blocker) -> list[tuple[str, str]]:
    with django_db_blocker.unblock(), broker:
        return list(InboundEvent.objects.order_by("id").values_list("channel", "external_id"))


def post_telegram(base: str, broker, body: bytes, *, secret: str | None = None, host: str | None = None,
                  request_id: str | None = None):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret or f"tg-{broker.slug}", "Content-Type": "application/json"}
    if host:
        headers["Host"] = host
    if request_id:
        headers["X-Request-ID"] = request_id
    return httpx.post(f"{base}/webhooks/telegram/{broker.slug}/", content=body, headers=headers, timeout=10)


def post_whatsapp(base: str, payload: dict, *, secret: str):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(f"{base}/webhooks/whatsapp/", content=body, timeout=10,
                      headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"})


def test_a_telegram_delivery_is_stored_in_its_brokerage_before_the_answer_and_only_once(
        brokerages, live_server_url, django_db_blocker):
    alfa, beta = brokerages
    body = json.dumps(telegram_update(610001, "Hola, busco depto en Ñuñoa")).encode()

    first = post_telegram(live_server_url, alfa, body)
    assert first.status_code == 200 and first.json() == {"ok": True, "stored": True}
    assert events(alfa, django_db_blocker) == [("telegram", "610001")]  # already there when the 200 arrived

    again = post_telegram(live_server_url, alfa, body, request_id="tg-redelivery-1")
    assert again.status_code == 200 and again.json() == {"ok": True, "stored": False}
    assert events(alfa, django_db_blocker) == [("telegram", "610001")]
    assert events(beta, django_db_blocker) == []
    # Each delivery has a request id for its log lines, as Django's requests do: the caller's, or a new one.
    assert again.headers["x-request-id"] == "tg-redelivery-1"
    assert len(first.headers["x-request-id"]) == 32


def test_another_brokerages_secret_and_bad_bodies_get_json_errors_and_store_nothing(
        brokerages, live_server_url, django_db_blocker):
    alfa, beta = brokerages
    body = json.dumps(telegram_update(610002, "hola")).encode()
    refused = post_telegram(live_server_url, alfa, body, secret=f"tg-{beta.slug}")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "invalid_secret"

    malformed = post_telegram(live_server_url, alfa, b"{not json")
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed_json"
    oversized = post_telegram(live_server_url, alfa, b'{"update_id": 1, "x": "' + b"a" * 300_000 + b'"}')
    assert oversized.status_code == 413 and oversized.json()["error"]["code"] == "payload_too_large"

    assert ("telegram", "610002") not in events(alfa, django_db_blocker) + events(beta, django_db_blocker)


def test_a_whatsapp_number_of_one_brokerage_never_stores_in_another(brokerages, live_server_url, django_db_blocker):
    alfa, beta = brokerages
    with django_db_blocker.unblock():
        number = BrokerChatConfig.objects.get(broker=alfa).whatsapp_phone_number_id
    payload = whatsapp_payload(number, messages=[whatsapp_text("wamid.FP1", "Hola, soy Pedro")])

    forged = post_whatsapp(live_server_url, payload, secret=f"wa-{beta.slug}")
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "invalid_signature"
    assert [c for c, _ in events(alfa, django_db_blocker) + events(beta, django_db_blocker)].count("whatsapp") == 0

    stored = post_whatsapp(live_server_url, payload, secret=f"wa-{alfa.slug}")
    assert stored.status_code == 200 and stored.json() == {"ok": True, "stored": 1}
    assert [channel for channel, _ in events(alfa, django_db_blocker)].count("whatsapp") == 1
    assert [channel for channel, _ in events(beta, django_db_blocker)].count("whatsapp") == 0


def test_everything_else_is_still_djangos(brokerages, live_server_url, django_db_blocker):
    alfa, _ = brokerages
    # Meta's GET handshake is answered by the Django view (a wrong token: its 403).
    handshake = httpx.get(f"{live_server_url}/webhooks/whatsapp/", timeout=10,
                          params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert handshake.status_code == 403 and handshake.json()["error"]["code"] == "invalid_verify_token"
    # On a brokerage's own host the webhook path is not a webhook: Django's 404, nothing stored.
    body = json.dumps(telegram_update(610003, "hola")).encode()
    port = live_server_url.rsplit(":", 1)[1]
    elsewhere = post_telegram(live_server_url, alfa, body, host=f"{alfa.slug}.localhost:{port}")
    assert elsewhere.status_code == 404
    assert ("telegram", "610003") not in events(alfa, django_db_blocker)


@pytest.mark.parametrize(("method", "path", "host", "taken"), [
    ("POST", "/webhooks/telegram/alfa/", "localhost:8000", True),
    ("POST", "/webhooks/whatsapp/", "LOCALHOST", True),
    ("GET", "/webhooks/whatsapp/", "localhost", False),           # Meta's handshake
    ("POST", "/webhooks/telegram/alfa/", "alfa.localhost", False),  # a brokerage's host
    ("POST", "/webhooks/telegram/", "localhost", False),
    ("POST", "/api/v1/webchat/messages/", "localhost", False),
])
def test_only_webhook_posts_on_the_platform_host_skip_django(method, path, host, taken):
    from conversations.webhook_asgi import WebhookFastPath

    scope = {"type": "http", "method": method, "path": path, "headers": [(b"host", host.encode())]}
    assert (WebhookFastPath(app=None, threads=1)._route(scope) is not None) == taken
