"""Channel webhooks: verified, routed to the right brokerage, stored once, acknowledged after storing."""

import hashlib
import hmac
import json

import pytest
from django.test import TestCase

from brokers.models import BrokerChatConfig
from conversations.models import InboundEvent, Message
from conversations.tests.channel_stubs import telegram_update, whatsapp_payload, whatsapp_text
from leads.models import Lead

TG_SECRET = "tg-secret-alfa"
WA_NUMBER_A, WA_NUMBER_B = "100000000000011", "100000000000022"
WA_SECRET_A, WA_SECRET_B = "app-secret-alfa", "app-secret-beta"


@pytest.fixture
def channels(broker_a, broker_b):
    for broker, number, secret in ((broker_a, WA_NUMBER_A, WA_SECRET_A), (broker_b, WA_NUMBER_B, WA_SECRET_B)):
        config = BrokerChatConfig.objects.get(broker=broker)
        config.whatsapp_phone_number_id, config.whatsapp_app_secret = number, secret
        config.whatsapp_verify_token = f"verify-{broker.slug}"
        config.telegram_secret_token = TG_SECRET if broker == broker_a else ""
        config.save()


@pytest.fixture(autouse=True)
def _worker_inline(eager_tasks):
    """The worker's half (a stored delivery becoming messages and a turn) runs inline: see `posted`."""


def posted(send):
    """Post as the channel would, then run what the commit queued (the delivery's processing)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return send()


def post_telegram(client, payload, *, slug="alfa", secret=TG_SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return posted(lambda: client.post(f"/webhooks/telegram/{slug}/", data=json.dumps(payload),
                                      content_type="application/json", **headers))


def signed(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_whatsapp(client, payload, *, secret=WA_SECRET_A, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"HTTP_X_HUB_SIGNATURE_256": signed(body, secret)} if secret else {}
    return posted(lambda: client.post("/webhooks/whatsapp/", data=body, content_type="application/json", **headers))


def messages_in(broker):
    """What the lead sent, as stored in `broker` (the assistant's replies left out)."""
    with broker:
        return list(Message.objects.filter(direction="in").values_list("channel", "external_id", "text"))


@pytest.mark.django_db
def test_telegram_message_is_stored_in_its_brokerage_once(channels, broker_a, broker_b, page_client):
    client = page_client("localhost")
    first = post_telegram(client, telegram_update(9001, "Hola, busco depto en Ñuñoa"))
    again = post_telegram(client, telegram_update(9001, "Hola, busco depto en Ñuñoa"))

    assert first.status_code == 200 and first.json() == {"ok": True, "stored": True}
    assert again.status_code == 200 and again.json() == {"ok": True, "stored": False}
    assert messages_in(broker_a) == [("telegram", "9001", "Hola, busco depto en Ñuñoa")]
    assert messages_in(broker_b) == []
    with broker_a:
        lead = Lead.objects.get()
        assert (lead.channel, lead.channel_user_id, lead.name) == ("telegram", "555001", "Juan")


@pytest.mark.django_db
@pytest.mark.parametrize("secret", [None, "", "otro-secreto"])
def test_telegram_wrong_or_missing_secret_is_refused(channels, broker_a, page_client, secret):
    response = post_telegram(page_client("localhost"), telegram_update(9002, "hola"), secret=secret)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_secret"
    assert messages_in(broker_a) == []


@pytest.mark.django_db
def test_telegram_for_brokerage_without_secret_is_refused(channels, broker_b, page_client):
    response = post_telegram(page_client("localhost"), telegram_update(9003, "hola"), slug="beta", secret="")
    assert response.status_code == 403
    assert messages_in(broker_b) == []


@pytest.mark.django_db
def test_telegram_edited_message_is_a_new_update(channels, broker_a, page_client):
    client = page_client("localhost")
    post_telegram(client, telegram_update(9010, "busco casa"))
    post_telegram(client, telegram_update(9011, "busco casa en Maipú", edited=True))
    assert [t for _, _, t in messages_in(broker_a)] == ["busco casa", "busco casa en Maipú"]


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "code", "status"), [
    (b"{not json", "malformed_json", 400),
    (b"[1, 2]", "malformed_json", 400),
    (b'{"message": {}}', "invalid_update", 400),
    (b'{"update_id": 5, "message": {"message_id": 1, "chat": {}, "text": "hola"}}', "invalid_update", 400),
    (b'{"update_id": 6, "message": {"message_id": 1, "chat": {"id": 7}, "voice": "x"}}', "invalid_update", 400),
    (b'{"update_id": 1, "x": "' + b"a" * 300_000 + b'"}', "payload_too_large", 413),
])
def test_telegram_bad_bodies_get_clear_errors_and_store_nothing(channels, broker_a, page_client, body, code, status):
    response = page_client("localhost").post("/webhooks/telegram/alfa/", data=body, content_type="application/json",
                                             HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TG_SECRET)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert messages_in(broker_a) == []


@pytest.mark.django_db
def test_whatsapp_verify_handshake(channels, page_client):
    client = page_client("localhost")
    ok = client.get("/webhooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": "verify-alfa",
                                            "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    bad = client.get("/webhooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": "nope",
                                             "hub.challenge": "1"})
    assert bad.status_code == 403


@pytest.mark.django_db
def test_whatsapp_message_routes_by_phone_number_id_and_dedupes(channels, broker_a, broker_b, page_client):
    client = page_client("localhost")
    payload = whatsapp_payload(WA_NUMBER_B, messages=[whatsapp_text("wamid.IN1", "Hola, soy Pedro")])
    assert post_whatsapp(client, payload, secret=WA_SECRET_B).json() == {"ok": True, "stored": 1}
    assert post_whatsapp(client, payload, secret=WA_SECRET_B).json() == {"ok": True, "stored": 0}

    assert messages_in(broker_b) == [("whatsapp", "wamid.IN1", "Hola, soy Pedro")]
    assert messages_in(broker_a) == []
    with broker_b:
        assert Lead.objects.get().phone == "+56987654321"


@pytest.mark.django_db
def test_one_whatsapp_body_for_two_brokerages_numbers_leaves_each_only_its_own(channels, broker_a, broker_b,
                                                                                page_client):
    """Both numbers on one Meta app (same secret): each schema stores its share of the body, no more."""
    BrokerChatConfig.objects.filter(broker=broker_b).update(whatsapp_app_secret=WA_SECRET_A)
    payload = whatsapp_payload(WA_NUMBER_A, messages=[whatsapp_text("wamid.SA", "para Alfa")])
    payload["entry"] += whatsapp_payload(WA_NUMBER_B, messages=[whatsapp_text("wamid.SB", "para Beta",
                                                                               wa_id="56911112222")])["entry"]
    assert post_whatsapp(page_client("localhost"), payload).json() == {"ok": True, "stored": 2}

    for broker, mine, theirs in ((broker_a, "para Alfa", "para Beta"), (broker_b, "para Beta", "para Alfa")):
        assert [text for _, _, text in messages_in(broker)] == [mine]
        with broker:
            stored = json.dumps(InboundEvent.objects.get().payload, ensure_ascii=False)
        assert mine in stored and theirs not in stored


@pytest.mark.django_db
def test_whatsapp_signature_of_another_brokerage_is_refused(channels, broker_a, broker_b, page_client):
    """A's secret cannot sign a message for B's number: nothing is stored anywhere."""
    payload = whatsapp_payload(WA_NUMBER_B, messages=[whatsapp_text("wamid.X", "hola")])
    response = post_whatsapp(page_client("localhost"), payload, secret=WA_SECRET_A)
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_signature"
    assert messages_in(broker_a) == [] and messages_in(broker_b) == []


@pytest.mark.django_db
@pytest.mark.parametrize("secret", ["", "wrong"])
def test_whatsapp_missing_or_bad_signature_is_refused(channels, broker_a, page_client, secret):
    payload = whatsapp_payload(WA_NUMBER_A, messages=[whatsapp_text("wamid.Y", "hola")])
    assert post_whatsapp(page_client("localhost"), payload, secret=secret).status_code == 403
    assert messages_in(broker_a) == []


@pytest.mark.django_db
def test_whatsapp_unset_app_secret_never_skips_the_check(channels, broker_a, page_client):
    BrokerChatConfig.objects.filter(broker=broker_a).update(whatsapp_app_secret="")
    payload = whatsapp_payload(WA_NUMBER_A, messages=[whatsapp_text("wamid.Z", "hola")])
    body = json.dumps(payload).encode()
    response = page_client("localhost").post("/webhooks/whatsapp/", data=body, content_type="application/json",
                                             HTTP_X_HUB_SIGNATURE_256=signed(body, ""))
    assert response.status_code == 403
    assert messages_in(broker_a) == []


@pytest.mark.django_db
def test_whatsapp_unknown_number_is_404(channels, page_client):
    payload = whatsapp_payload("999", messages=[whatsapp_text("wamid.Q", "hola")])
    assert post_whatsapp(page_client("localhost"), payload).status_code == 404


@pytest.mark.django_db
def test_whatsapp_interactive_location_and_audio_are_stored_not_dropped(channels, broker_a, page_client):
    messages = [
        {"from": "56911111111", "id": "wamid.B1", "timestamp": "1", "type": "interactive",
         "interactive": {"type": "button_reply", "button_reply": {"id": "visit_yes", "title": "Sí, agendar"}}},
        {"from": "56911111111", "id": "wamid.L1", "timestamp": "2", "type": "interactive",
         "interactive": {"type": "list_reply", "list_reply": {"id": "slot_2", "title": "Martes 10:00"}}},
        {"from": "56911111111", "id": "wamid.G1", "timestamp": "3", "type": "location",
         "location": {"latitude": -33.45, "longitude": -70.66, "name": "Oficina", "address": "Providencia"}},
        {"from": "56911111111", "id": "wamid.A1", "timestamp": "4", "type": "audio",
         "audio": {"id": "media-123", "mime_type": "audio/ogg; codecs=opus"}},
    ]
    payload = whatsapp_payload(WA_NUMBER_A, messages=messages, wa_id="56911111111")
    assert post_whatsapp(page_client("localhost"), payload).json()["stored"] == 4
    with broker_a:
        stored = {m.external_id: m for m in Message.objects.filter(direction="in")}
    assert stored["wamid.B1"].text == "Sí, agendar" and stored["wamid.B1"].attachment == {"reply_id": "visit_yes"}
    assert stored["wamid.L1"].text == "Martes 10:00"
    assert stored["wamid.G1"].kind == "location" and stored["wamid.G1"].attachment["latitude"] == -33.45
    assert stored["wamid.A1"].kind == "audio" and stored["wamid.A1"].attachment["media_id"] == "media-123"


@pytest.mark.django_db
def test_whatsapp_statuses_never_move_backwards(channels, broker_a, page_client):
    from conversations.models import Conversation

    with broker_a:
        lead = Lead.objects.create(channel="whatsapp", channel_user_id="56922222222")
        conversation = Conversation.objects.create(lead=lead, channel="whatsapp", channel_user_id="56922222222")
        out = Message.objects.create(conversation=conversation, channel="whatsapp", direction="out",
                                     sender="assistant", text="hola", external_id="wamid.OUT1", status="sent")
    client = page_client("localhost")
    for status in ("read", "delivered", "sent"):
        payload = whatsapp_payload(WA_NUMBER_A, statuses=[{"id": "wamid.OUT1", "status": status,
                                                           "timestamp": "1", "recipient_id": "56922222222"}])
        assert post_whatsapp(client, payload).status_code == 200
    with broker_a:
        out.refresh_from_db()
    assert out.status == "read"


@pytest.mark.django_db
def test_telegram_set_webhook_command_registers_a_fresh_secret(broker_a, telegram_stub):
    from django.core.management import call_command

    config = BrokerChatConfig.objects.get(broker=broker_a)
    config.telegram_bot_token, config.telegram_secret_token = "123:alfa", "old-secret"
    config.save()

    call_command("telegram_set_webhook", "alfa", "--base-url", "https://crm.example.cl")

    request = telegram_stub.requests[-1]
    assert request["path"] == "/bot123:alfa/setWebhook"
    assert request["json"]["url"] == "https://crm.example.cl/webhooks/telegram/alfa/"
    new_secret = BrokerChatConfig.objects.get(broker=broker_a).telegram_secret_token
    assert new_secret != "old-secret" and request["json"]["secret_token"] == new_secret


@pytest.mark.django_db
def test_telegram_set_webhook_without_bot_token_is_a_clear_error(broker_a):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="token de bot"):
        call_command("telegram_set_webhook", "alfa", "--base-url", "https://crm.example.cl")
