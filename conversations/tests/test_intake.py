"""Stored webhook deliveries in the worker: processed once, in their own brokerage, never stranded."""

from datetime import timedelta

import pytest
from django.utils import timezone

from brokers.models import BrokerChatConfig
from conversations import intake, tasks
from conversations.models import InboundEvent, Message
from conversations.tests.channel_stubs import telegram_update, whatsapp_payload, whatsapp_text
from conversations.tests.conftest import WA_NUMBER


def stored_event(broker, payload: dict, *, channel: str = "telegram", minutes_ago: int = 0) -> InboundEvent:
    with broker:
        event = InboundEvent.objects.create(channel=channel, external_id=str(payload.get("update_id", "x")),
                                            payload=payload)
        InboundEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=minutes_ago))
        return event


def inbound_texts(broker) -> list[str]:
    with broker:
        return list(Message.objects.filter(direction="in").values_list("text", flat=True))


@pytest.mark.django_db
def test_a_delivery_becomes_its_message_once_however_often_it_is_processed(broker_a, broker_b):
    event = stored_event(broker_a, telegram_update(7101, "Hola, soy Marta"))
    with broker_a:
        first = intake.event_process(event_id=event.id)
        again = intake.event_process(event_id=event.id)
        event.refresh_from_db()
    assert len(first) == 1 and again == []
    assert event.processed_at is not None
    assert inbound_texts(broker_a) == ["Hola, soy Marta"] and inbound_texts(broker_b) == []


@pytest.mark.django_db
def test_a_whatsapp_delivery_keeps_only_what_is_addressed_to_the_brokerages_number(broker_a, broker_b):
    BrokerChatConfig.objects.filter(broker=broker_a).update(whatsapp_phone_number_id=WA_NUMBER)
    payload = whatsapp_payload(WA_NUMBER, messages=[whatsapp_text("wamid.I1", "Busco casa en Maipú")])
    other = whatsapp_payload("100000000000099", messages=[whatsapp_text("wamid.I2", "para otra corredora")])
    payload["entry"] += other["entry"]
    event = stored_event(broker_a, payload, channel="whatsapp")
    with broker_a:
        intake.event_process(event_id=event.id)
    assert inbound_texts(broker_a) == ["Busco casa en Maipú"]


@pytest.mark.django_db
def test_the_sweep_processes_deliveries_left_behind_in_their_own_brokerage_only(
        broker_a, broker_b, offline_llm, eager_tasks, django_capture_on_commit_callbacks):
    stranded = stored_event(broker_a, telegram_update(7201, "Hola, busco depto en Ñuñoa"), minutes_ago=5)
    recent = stored_event(broker_a, telegram_update(7202, "recién llegado"))  # its own task is still on the way
    stored_event(broker_a, telegram_update(7203, "de anteayer"), minutes_ago=2 * 24 * 60)  # given up on
    with django_capture_on_commit_callbacks(execute=True), broker_a:
        assert tasks.requeue_stale() == 1
    with broker_a:
        stranded.refresh_from_db()
        recent.refresh_from_db()
        answered = Message.objects.get(direction="out").reply_to.external_id
    assert stranded.processed_at is not None and recent.processed_at is None
    assert inbound_texts(broker_a) == ["Hola, busco depto en Ñuñoa"] and answered == "7201"  # and its turn ran
    with broker_b:
        assert tasks.requeue_stale() == 0
    assert inbound_texts(broker_b) == []
