"""Whole conversations: a lead writes, the assistant qualifies them, the broker's data follows."""

import hashlib
import hmac
import json

import pytest

from brokers.models import LLMCall
from conversations.models import Conversation, DeadLetter, Message
from conversations.tests.channel_stubs import telegram_update, whatsapp_payload, whatsapp_text
from conversations.tests.conftest import TG_SECRET, WA_NUMBER, WA_SECRET
from crm.tests.stubs import OpenAIStub, Reply
from leads.models import Lead

SCRIPT = [
    "Hola!",
    "me llamo Juan Pérez, busco depto en Ñuñoa",
    "mi presupuesto es de 4.000 UF",
    "mi cel es +56 9 8765 4321 y mi correo es Juan.Perez@gmail.com",
    "gano 1.800.000 líquidos y no estoy en dicom",
]


def telegram_turn(client, update_id: int, text: str):
    return client.post("/webhooks/telegram/alfa/", data=json.dumps(telegram_update(update_id, text)),
                       content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TG_SECRET)


def whatsapp_turn(client, wamid: str, text: str):
    body = json.dumps(whatsapp_payload(WA_NUMBER, messages=[whatsapp_text(wamid, text)])).encode()
    signature = "sha256=" + hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/whatsapp/", data=body, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=signature)


def assert_qualified(lead: Lead) -> None:
    assert (lead.name, lead.location, lead.property_type) == ("Juan Pérez", "Ñuñoa", "departamento")
    assert (int(lead.budget_amount), lead.budget_currency) == (4000, "UF")
    assert (lead.phone, lead.email) == ("+56987654321", "juan.perez@gmail.com")
    assert (lead.monthly_income, lead.dicom_status) == (1_800_000, "clean")
    assert lead.calificacion == "calificado"
    assert lead.pipeline_stage == "potencial"
    assert lead.lead_score >= 60 and lead.status in ("hot", "qualified")


@pytest.mark.django_db
def test_full_qualification_over_telegram_with_offline_assistant(
        alfa_channels, broker_a, telegram_stub, offline_llm, eager_tasks, page_client,
        django_capture_on_commit_callbacks):
    client = page_client("localhost")
    for index, text in enumerate(SCRIPT):
        with django_capture_on_commit_callbacks(execute=True):
            assert telegram_turn(client, 7000 + index, text).status_code == 200

    with broker_a:
        assert_qualified(Lead.objects.get())
        replies = list(Message.objects.filter(direction="out").order_by("id"))
    sent = telegram_stub.sent_texts()
    assert len(sent) == len(SCRIPT) and [r.status for r in replies] == ["sent"] * len(SCRIPT)
    assert "Sofía" in sent[0]  # greeting with the assistant's name
    assert "presupuesto" in sent[1].lower()  # asks for the next missing field in priority order
    assert "visita" in sent[-1]  # qualified: offers a visit
    calls = LLMCall.objects.filter(broker=broker_a)
    assert calls.count() == len(SCRIPT) and set(calls.values_list("provider", flat=True)) == {"offline"}


@pytest.mark.django_db
def test_full_qualification_over_whatsapp_with_openai(
        alfa_channels, broker_a, whatsapp_stub, eager_tasks, settings, page_client,
        django_capture_on_commit_callbacks):
    with OpenAIStub() as openai_stub:
        settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-test"
        settings.OPENAI_BASE_URL = openai_stub.base_url
        openai_stub.reply = Reply(text="¡Genial! Cuéntame más.", input_tokens=900, output_tokens=20,
                                  cached_tokens=512)
        client = page_client("localhost")
        for index, text in enumerate(SCRIPT):
            with django_capture_on_commit_callbacks(execute=True):
                assert whatsapp_turn(client, f"wamid.FLOW{index}", text).status_code == 200
        system_prompt = openai_stub.requests[-1].json["messages"][0]["content"]

    with broker_a:
        assert_qualified(Lead.objects.get())
    assert whatsapp_stub.sent_texts() == ["¡Genial! Cuéntame más."] * len(SCRIPT)
    assert whatsapp_stub.requests[0]["headers"]["Authorization"] == "Bearer EAAG-alfa-token"
    assert "Juan Pérez" in system_prompt and "1.800.000" in system_prompt
    call = LLMCall.objects.filter(broker=broker_a).latest("id")
    assert (call.provider, call.input_tokens, call.cached_tokens, call.fallback_used) == ("openai", 900, 512, False)
    assert call.cost_usd > 0


@pytest.mark.django_db
def test_openai_down_still_answers_and_keeps_the_message(
        alfa_channels, broker_a, telegram_stub, eager_tasks, settings, page_client,
        django_capture_on_commit_callbacks):
    settings.LLM_OFFLINE_PROVIDER = "conversations.offline.OfflineAssistant"
    with OpenAIStub() as openai_stub:
        settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-test"
        settings.OPENAI_BASE_URL = openai_stub.base_url
        openai_stub.fail(500)
        with django_capture_on_commit_callbacks(execute=True):
            telegram_turn(page_client("localhost"), 7100, "me llamo Ana, busco casa en Maipú")

    with broker_a:
        inbound = Message.objects.get(direction="in")
        assert inbound.status == "processed"
        assert Lead.objects.get().location == "Maipú"
    assert len(telegram_stub.sent_texts()) == 1 and "Ana" in telegram_stub.sent_texts()[0]
    providers = list(LLMCall.objects.filter(broker=broker_a).order_by("id").values_list("provider", "fallback_used"))
    assert providers == [("openai", False), ("offline", True)]


@pytest.mark.django_db
def test_human_takeover_silences_the_assistant_and_agent_reply_is_sent(
        alfa_channels, broker_a, admin_a, telegram_stub, offline_llm, eager_tasks, page_client, api_client,
        django_capture_on_commit_callbacks):
    client = page_client("localhost")
    with django_capture_on_commit_callbacks(execute=True):
        telegram_turn(client, 7200, "hola")
    with broker_a:
        conversation = Conversation.objects.get()
    api = api_client("alfa.localhost", admin_a)
    assert api.post(f"/api/v1/chat/conversations/{conversation.id}/takeover/").json()["human_mode"] is True

    with django_capture_on_commit_callbacks(execute=True):
        telegram_turn(client, 7201, "¿sigue disponible el depto?")
        reply = api.post(f"/api/v1/chat/conversations/{conversation.id}/messages/", {"text": "Sí, lo está."},
                         format="json")
    assert reply.status_code == 201 and reply.json()["sender"] == "agent"
    assert telegram_stub.sent_texts()[1:] == ["Sí, lo está."]
    with broker_a:
        assert Message.objects.get(external_id="7201").status == "skipped"

    api.post(f"/api/v1/chat/conversations/{conversation.id}/handback/", {"note": "Ya le confirmé"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        telegram_turn(client, 7202, "gracias! me llamo Rosa")
    assert len(telegram_stub.sent_texts()) == 3


@pytest.mark.django_db
def test_asking_for_a_person_hands_off(alfa_channels, broker_a, telegram_stub, offline_llm, eager_tasks,
                                       page_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        telegram_turn(page_client("localhost"), 7300, "quiero hablar con una persona por favor")
    with broker_a:
        assert Conversation.objects.get().human_mode is True
    assert "ejecutivo" in telegram_stub.sent_texts()[0]


@pytest.mark.django_db
def test_failed_send_is_retried_and_the_stored_reply_is_not_lost(
        alfa_channels, broker_a, telegram_stub, offline_llm, eager_tasks, page_client,
        django_capture_on_commit_callbacks):
    telegram_stub.fail_next(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    with django_capture_on_commit_callbacks(execute=True):
        telegram_turn(page_client("localhost"), 7400, "hola")
    with broker_a:
        reply = Message.objects.get(direction="out")
    assert reply.status == "sent" and reply.attempts == 2
    assert len(telegram_stub.sent_texts()) == 2  # the 502 attempt, then the retry of the same stored reply


@pytest.mark.django_db
def test_send_that_keeps_failing_becomes_a_dead_letter_for_the_admin(
        alfa_channels, broker_a, admin_a, agent_a, telegram_stub, offline_llm, eager_tasks, page_client, api_client,
        django_capture_on_commit_callbacks):
    for _ in range(10):
        telegram_stub.fail_next(500, {"ok": False, "error_code": 500, "description": "Internal"})
    with django_capture_on_commit_callbacks(execute=True):
        telegram_turn(page_client("localhost"), 7500, "hola")
    with broker_a:
        assert Message.objects.get(direction="out").status == "failed"
        assert DeadLetter.objects.count() == 1
    assert api_client("alfa.localhost", admin_a).get("/api/v1/chat/dead-letters/").json()["count"] == 1
    assert api_client("alfa.localhost", agent_a).get("/api/v1/chat/dead-letters/").status_code == 403


@pytest.mark.django_db
def test_brokerage_without_credentials_gets_replies_in_the_outbox(
        broker_a, admin_a, offline_llm, eager_tasks, page_client, api_client, django_capture_on_commit_callbacks):
    from brokers.models import BrokerChatConfig

    config = BrokerChatConfig.objects.get(broker=broker_a)
    config.telegram_secret_token = TG_SECRET  # a webhook secret, but no bot token to answer with
    config.save()
    with django_capture_on_commit_callbacks(execute=True):
        telegram_turn(page_client("localhost"), 7600, "hola")
    outbox = api_client("alfa.localhost", admin_a).get("/api/v1/chat/outbox/").json()
    assert outbox["count"] == 1 and outbox["results"][0]["status"] == "outbox"
