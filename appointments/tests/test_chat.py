"""Booking from the conversation: the offline rules and an LLM's tool calls through the facade."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.chat import choice_parse, tool_calls_run
from appointments.models import Appointment, SlotOffer
from appointments.tests.factories import every_day
from brokers.models import LLMCall
from conversations import orchestrator
from conversations.models import Conversation, Message
from conversations.tests.test_flow import SCRIPT, telegram_turn
from crm.tests.stubs import OpenAIStub, Reply
from leads.tests.factories import lead_make

SCL = ZoneInfo("America/Santiago")
TUESDAY = date(2026, 12, 1)


@pytest.mark.parametrize(("text", "expected"), [
    ("la segunda", {"slot": 2}),
    ("La primera por favor", {"slot": 1}),
    ("opción 3", {"slot": 3}),
    ("2", {"slot": 2}),
    ("el martes a las 10", {"date": "2026-12-08", "time": "10:00"}),  # "el martes" said on a Tuesday: next week
    ("el jueves a las 4 de la tarde", {"date": "2026-12-03", "time": "16:00"}),
    ("mañana en la tarde", {"date": "2026-12-02", "part_of_day": "tarde"}),
    ("pasado mañana por la mañana", {"date": "2026-12-03", "part_of_day": "mañana"}),
    ("hoy a las 17:30", {"date": "2026-12-01", "time": "17:30"}),
    ("el viernes", {"date": "2026-12-04"}),
    ("¿tienen estacionamiento?", None),
])
def test_the_leads_choice_is_understood(text, expected):
    assert choice_parse(text, today=TUESDAY) == expected


def qualified_lead(**fields):
    fields.setdefault("pipeline_stage", "potencial")
    lead = lead_make(name="Juan Pérez", location="Ñuñoa", property_type="departamento", budget_amount=4000,
                     budget_currency="UF", calificacion="calificado", channel="telegram", channel_user_id="5150",
                     **fields)
    lead.monthly_income, lead.dicom_status = 1_800_000, "clean"
    lead.save()
    return lead


def inbound(conversation, text: str, number: int) -> Message:
    return Message.objects.create(conversation=conversation, channel="telegram", direction="in", sender="lead",
                                  text=text, status="received", external_id=f"appt-{number}")


def local(appointment: Appointment) -> datetime:
    return appointment.start_at.astimezone(SCL)


@pytest.mark.django_db
def test_offline_assistant_offers_real_slots_and_books_the_second(
        alfa_channels, broker_a, agent_a, telegram_stub, offline_llm, eager_tasks, page_client,
        django_capture_on_commit_callbacks):
    with broker_a:
        every_day()
    client = page_client("localhost")
    for index, text in enumerate([*SCRIPT, "la segunda"]):
        with django_capture_on_commit_callbacks(execute=True):
            assert telegram_turn(client, 9100 + index, text).status_code == 200

    offer, confirmation = telegram_stub.sent_texts()[-2:]
    assert "1) " in offer and "2) " in offer and "3) " in offer and "¿Cuál te acomoda?" in offer
    with broker_a:
        appointment = Appointment.objects.get()
        lead = appointment.lead
        assert not SlotOffer.objects.exists()
    when = local(appointment)
    weekday = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")[when.weekday()]
    assert f"2) {weekday} {when:%d-%m-%Y} a las {when:%H:%M}" in offer  # the second one offered is the one booked
    assert f"{weekday} {when:%d-%m-%Y} a las {when:%H:%M}" in confirmation
    assert "Agente Corredora Alfa" in confirmation and "cédula de identidad" in confirmation
    assert "dirección de la propiedad" in confirmation  # none configured: the agent confirms it, none invented
    assert (appointment.agent_id, appointment.booked_by_id, lead.pipeline_stage) == (agent_a.id, None, "agendado")


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "expected"), [
    ("mañana en la tarde", lambda today: datetime.combine(today + timedelta(days=1), time(13), tzinfo=SCL)),
    ("el martes a las 10", lambda today: datetime.combine(
        today + timedelta(days=(1 - today.weekday() - 1) % 7 + 1), time(10), tzinfo=SCL)),
])
def test_offline_turn_books_a_day_and_time_in_the_leads_words(broker_a, agent_a, offline_llm, text, expected):
    today = timezone.now().astimezone(SCL).date()
    with broker_a:
        every_day()
        lead = qualified_lead()
        conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="5150")
        orchestrator.run_turn(message_id=inbound(conversation, "quiero visitar el depto", 1).id)
        assert SlotOffer.objects.get(lead=lead).slots
        reply = orchestrator.run_turn(message_id=inbound(conversation, text, 2).id)
        appointment = Appointment.objects.get(lead=lead)
    assert appointment.start_at == expected(today)
    assert reply.text.startswith("¡Listo!")


@pytest.mark.django_db
def test_openai_tool_calls_list_slots_then_book_through_the_facade(broker_a, agent_a, settings):
    with broker_a:
        every_day()
        lead = qualified_lead()
        conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="5150")
        with OpenAIStub() as openai_stub:
            settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-test"
            settings.OPENAI_BASE_URL = openai_stub.base_url
            openai_stub.push(Reply(text=None, tool_calls=[("list_visit_slots", {"part_of_day": "mañana"})]),
                             Reply(text="¡Perfecto!", tool_calls=[("book_visit", {"slot": 3})]))
            offer = orchestrator.run_turn(message_id=inbound(conversation, "¿cuándo puedo ir a verlo?", 1).id)
            offered = SlotOffer.objects.get(lead=lead).slots
            confirmation = orchestrator.run_turn(message_id=inbound(conversation, "la tercera", 2).id)
            request = openai_stub.requests[0].json
        appointment = Appointment.objects.get(lead=lead)
    assert {tool["function"]["name"] for tool in request["tools"]} == {"list_visit_slots", "book_visit",
                                                                        "confirm_visit"}
    assert "list_visit_slots" in request["messages"][0]["content"]
    assert offer.text.startswith("Tengo estos horarios") and len(offered) == 3
    assert all(datetime.fromisoformat(start).astimezone(SCL).hour < 13 for start, _ in offered)  # "mañana"
    assert appointment.start_at == datetime.fromisoformat(offered[2][0])
    assert confirmation.text.startswith("¡Perfecto! ¡Listo! Quedó agendada tu visita")
    assert set(LLMCall.objects.filter(broker=broker_a).values_list("provider", flat=True)) == {"openai"}


@pytest.mark.django_db
def test_booking_again_returns_the_existing_visit_and_a_taken_choice_gets_new_slots(broker_a, agent_a):
    with broker_a:
        every_day()
        lead, rival = qualified_lead(), lead_make()
        tool_calls_run(lead=lead, calls=[{"name": "list_visit_slots", "arguments": {}}])
        first = SlotOffer.objects.get(lead=lead).slots[0][0]
        tool_calls_run(lead=rival, calls=[{"name": "book_visit", "arguments": {}}])  # nothing chosen: new offer
        Appointment.objects.create(lead=rival, agent_id=agent_a.id, appointment_type="property_visit",
                                   start_at=datetime.fromisoformat(first),
                                   end_at=datetime.fromisoformat(first) + timedelta(hours=1))
        taken = tool_calls_run(lead=lead, calls=[{"name": "book_visit", "arguments": {"slot": 1}}])
        booked = tool_calls_run(lead=lead, calls=[{"name": "book_visit", "arguments": {"slot": 1}}])
        again = tool_calls_run(lead=lead, calls=[{"name": "book_visit", "arguments": {"slot": 2}}])
        confirmed = tool_calls_run(lead=lead, calls=[{"name": "confirm_visit", "arguments": {}}])
        assert Appointment.objects.filter(lead=lead).count() == 1
        assert Appointment.objects.get(lead=lead).status == "confirmed"
    assert taken.startswith("Ese horario no está disponible. Tengo estos horarios")
    assert booked.startswith("¡Listo!") and again == booked
    assert "quedó confirmada" in confirmed


@pytest.mark.django_db
def test_the_lead_confirms_a_reminded_visit_by_chat(broker_a, agent_a, offline_llm):
    with broker_a:
        lead = qualified_lead(pipeline_stage="agendado")
        start = timezone.now().replace(microsecond=0) + timedelta(days=1)
        visit = Appointment.objects.create(lead=lead, agent_id=agent_a.id, appointment_type="property_visit",
                                           start_at=start, end_at=start + timedelta(hours=1))
        conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="5150")
        other = orchestrator.run_turn(message_id=inbound(conversation, "¿hay estacionamiento?", 1).id)
        reply = orchestrator.run_turn(message_id=inbound(conversation, "Confirmo, ahí estaré", 2).id)
        visit.refresh_from_db()
    assert "confirmada" not in other.text
    assert visit.status == "confirmed" and "quedó confirmada" in reply.text
