"""The orchestrator's use of the knowledge base: passages in the reply, the semantic cache for
general questions, each brokerage answered from its own knowledge base."""

import pytest

from brokers.models import LLMCall
from conversations import orchestrator
from conversations.models import Conversation, Message
from knowledge.models import CacheEntry
from knowledge.tests.conftest import document_add
from leads.models import Lead

HOURS_A = "Nuestra oficina atiende de lunes a viernes de 9:00 a 18:30."
HOURS_B = "La sala de ventas abre todos los días de 11:00 a 20:00, también domingos."
QUESTION = "¿Cuál es el horario de atención?"


@pytest.fixture
def offline_llm(settings):
    settings.LLM_PROVIDER, settings.LLM_FALLBACK_PROVIDER = "offline", ""
    settings.LLM_OFFLINE_PROVIDER = "conversations.offline.OfflineAssistant"


def ask(channel_user_id: str, text: str, **lead_fields) -> str:
    """One inbound message from a lead (created on first use) through a whole turn; the reply's text."""
    lead, _ = Lead.objects.get_or_create(channel="webchat", channel_user_id=channel_user_id, defaults=lead_fields)
    conversation, _ = Conversation.objects.get_or_create(lead=lead, channel="webchat", channel_user_id=channel_user_id)
    inbound = Message.objects.create(conversation=conversation, channel="webchat", direction="in", sender="lead",
                                     text=text, status="received", external_id=f"{channel_user_id}:{text}")
    return orchestrator.run_turn(message_id=inbound.id).text


@pytest.mark.django_db
def test_each_brokerage_answers_the_same_question_from_its_own_knowledge_base(broker_a, broker_b, offline_llm):
    with broker_a:
        document_add(title="Horario de atención", body=HOURS_A)
        document_add(title="Mascotas", body="Se permiten perros y gatos en todos los edificios.")
    with broker_b:
        document_add(title="Horario de atención", body=HOURS_B)
    with broker_a:
        reply_a = ask("a-1", QUESTION)
    with broker_b:
        reply_b = ask("b-1", QUESTION)
    assert HOURS_A in reply_a and HOURS_B not in reply_a
    assert HOURS_B in reply_b and HOURS_A not in reply_b


@pytest.mark.django_db
def test_a_repeated_general_question_is_answered_from_the_cache_without_an_llm_call(broker_a, offline_llm):
    with broker_a:
        document_add(title="Horario de atención", body=HOURS_A)
        first = ask("a-1", QUESTION)
        calls = LLMCall.objects.count()
        second = ask("a-2", "¿cuál es el horario de atención??")
        assert second == first
        assert LLMCall.objects.count() == calls
        assert CacheEntry.objects.get().hits == 1


@pytest.mark.django_db
def test_answers_that_rest_on_personal_data_are_never_cached(broker_a, offline_llm):
    with broker_a:
        document_add(title="Horario de atención", body=HOURS_A)
        ask("a-1", "me llamo Ana Pérez, ¿cuál es el horario de atención?")  # personal data in the message
        ask("a-2", QUESTION, name="Ana Pérez")  # the lead's data in the prompt
        assert not CacheEntry.objects.exists()


@pytest.mark.django_db
def test_a_message_below_the_similarity_floor_gets_no_passage(broker_a, offline_llm):
    with broker_a:
        document_add(title="Horario de atención", body=HOURS_A)
        reply = ask("a-1", "hola")
    assert HOURS_A not in reply
