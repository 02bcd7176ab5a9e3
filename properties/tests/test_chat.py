"""The assistant answers questions about stock from the catalogue: real, available units only."""

import pytest

from conversations import orchestrator
from conversations.models import Conversation, Message
from conversations.tests.test_flow import telegram_turn
from crm.tests.stubs import OpenAIStub, Reply
from leads.models import Lead
from leads.tests.factories import lead_make
from properties import services
from properties.chat import asks_for_stock
from properties.tests.factories import catalogue_load

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("text", "expected"), [
    ("¿Qué departamentos tienen en Ñuñoa?", True),
    ("¿tienen casas de 3 dormitorios?", True),
    ("¿Hay deptos disponibles en Providencia?", True),
    ("muéstrame las opciones que tienen", True),
    ("busco depto en Ñuñoa", False),  # a statement of what the lead wants: qualifying goes on
    ("¿Tienen estacionamiento?", False),
    ("¿Aceptan mascotas en el departamento?", False),
])
def test_questions_about_stock_are_recognised(text, expected):
    assert asks_for_stock(text) is expected


def inbound(conversation, text: str, number: int) -> Message:
    return Message.objects.create(conversation=conversation, channel="telegram", direction="in", sender="lead",
                                  text=text, status="received", external_id=f"prop-{number}")


def test_a_real_chat_turn_lists_available_units_and_never_a_sold_one(
        alfa_channels, broker_a, telegram_stub, offline_llm, eager_tasks, page_client,
        django_capture_on_commit_callbacks):
    with broker_a:
        units = catalogue_load()
        services.unit_status_set(unit=units["NU-202"], status="sold")
    client = page_client("localhost")
    with django_capture_on_commit_callbacks(execute=True):
        assert telegram_turn(client, 8800, "Hola, ¿qué departamentos tienen en Ñuñoa?").status_code == 200
    reply = telegram_stub.sent_texts()[-1]
    assert "NU-101: departamento en Ñuñoa, 2 dormitorios" in reply and "4.000 UF" in reply
    assert "NU-303" in reply and "5.200 UF" in reply
    assert "NU-202" not in reply  # sold
    assert "PR-110" not in reply and "LF-01" not in reply  # other comuna, other type
    with broker_a:
        lead = Lead.objects.get()
    assert (lead.location, lead.property_type) == ("Ñuñoa", "departamento")  # the question told us both


def test_the_leads_known_budget_and_rooms_narrow_the_search_and_none_is_invented(broker_a, offline_llm):
    with broker_a:
        units = catalogue_load()
        lead = lead_make(name="Ana", location="La Florida", bedrooms=3, budget_amount=3000, budget_currency="UF",
                         channel="telegram", channel_user_id="77")
        conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="77")
        none = orchestrator.run_turn(message_id=inbound(conversation, "¿tienen casas?", 1).id)
        Lead.objects.filter(pk=lead.pk).update(budget_amount=5000)
        services.unit_status_set(unit=units["LF-01"], status="reserved")
        reserved = orchestrator.run_turn(message_id=inbound(conversation, "¿y tienen casas de 3 dormitorios?", 2).id)
    assert "no tenemos unidades disponibles que calcen" in none.text.lower()
    assert "no tenemos unidades disponibles que calcen" in reserved.text.lower()  # LF-01 is reserved


def test_an_openai_tool_call_is_answered_from_the_catalogue(broker_a, settings):
    with broker_a:
        units = catalogue_load()
        services.unit_status_set(unit=units["LF-01"], status="reserved")
        lead = lead_make(name="Pedro", channel="telegram", channel_user_id="99")
        conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="99")
        with OpenAIStub() as openai_stub:
            settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-test"
            settings.OPENAI_BASE_URL = openai_stub.base_url
            openai_stub.push(Reply(text="¡Claro!", tool_calls=[("search_properties", {
                "property_type": "casa", "bedrooms": 3, "query": "con piscina"})]))
            reply = orchestrator.run_turn(message_id=inbound(conversation, "¿tienen casas con piscina?", 1).id)
            request = openai_stub.requests[0].json
    assert [tool["function"]["name"] for tool in request["tools"]] == ["search_properties"]
    assert reply.text.startswith("¡Claro! Tenemos estas unidades disponibles: 1) MP-02: casa en Maipú")
    assert "LF-01" not in reply.text  # the closest match, but reserved


def test_a_question_about_stock_is_never_answered_from_the_semantic_cache(broker_a, offline_llm):
    with broker_a:
        units = catalogue_load()
        # Leads we know nothing about: a general question of theirs could be cached.
        first = lead_make(phone="", channel="telegram", channel_user_id="1")
        second = lead_make(phone="", channel="telegram", channel_user_id="2")
        one = Conversation.objects.create(lead=first, channel="telegram", channel_user_id="1")
        two = Conversation.objects.create(lead=second, channel="telegram", channel_user_id="2")
        before = orchestrator.run_turn(message_id=inbound(one, "¿Qué propiedades tienen disponibles?", 1).id)
        listed = [code for code in units if code in before.text]
        services.unit_status_set(unit=units[listed[0]], status="sold")
        after = orchestrator.run_turn(message_id=inbound(two, "¿Qué propiedades tienen disponibles?", 2).id)
    assert len(listed) == 3 and listed[0] not in after.text and listed[1] in after.text
