"""Reminders 24 h and 1 h before, through the lead's channel, exactly once each."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from appointments import services
from appointments.models import Appointment
from appointments.tasks import reminders_all_brokerages
from appointments.tests.factories import agent_make, appointment_make
from conftest import committed_brokerage
from conversations.models import Conversation, Message
from leads.models import Lead
from leads.tests.factories import lead_make


def booked(*, start, lead=None, agent_id, created_ago=timedelta(days=3)) -> Appointment:
    lead = lead or lead_make(name="Camila Rojas", channel="telegram", channel_user_id=uuid.uuid4().hex[:8])
    Conversation.objects.create(lead=lead, channel="telegram", channel_user_id=lead.channel_user_id)
    appointment = appointment_make(lead=lead, agent_id=agent_id, start=start)
    Appointment.objects.filter(pk=appointment.pk).update(created_at=timezone.now() - created_ago)
    return appointment


def reminders() -> list[str]:
    return list(Message.objects.filter(sender="system").order_by("id").values_list("text", flat=True))


@pytest.mark.django_db
def test_24h_then_1h_reminder_each_once_even_if_the_task_runs_twice(
        alfa_channels, broker_a, agent_a, telegram_stub, eager_tasks, django_capture_on_commit_callbacks):
    now = timezone.now()
    with broker_a:
        appointment = booked(start=now + timedelta(hours=23), agent_id=agent_a.id)
    with django_capture_on_commit_callbacks(execute=True):
        reminders_all_brokerages()
        reminders_all_brokerages()
    with broker_a:
        assert len(reminders()) == 1 and reminders()[0].startswith("Hola Camila, te recordamos tu visita mañana")
        appointment.refresh_from_db()
        assert appointment.reminder_24h_sent_at is not None and appointment.reminder_1h_sent_at is None
        later = now + timedelta(hours=22, minutes=10)
        assert services.reminders_send(now=later) == 1
        assert services.reminders_send(now=later) == 0
        assert reminders()[1].startswith("Hola Camila, te recordamos tu visita hoy")
    assert len(telegram_stub.sent_texts()) == 1  # the first went out through Telegram on commit


@pytest.mark.django_db
def test_no_reminder_for_closed_or_just_booked_visits_and_a_late_24h_gives_way(broker_a, agent_a):
    now = timezone.now()
    with broker_a:
        booked(start=now + timedelta(hours=20), agent_id=agent_a.id, created_ago=timedelta(hours=1))  # just booked
        cancelled = booked(start=now + timedelta(hours=5), agent_id=agent_a.id)
        Appointment.objects.filter(pk=cancelled.pk).update(status="cancelled", cancel_reason="No puede")
        late = booked(start=now + timedelta(minutes=30), agent_id=agent_make().id)
        assert services.reminders_send(now=now) == 1
        late.refresh_from_db()
    assert late.reminder_1h_sent_at is not None and late.reminder_24h_sent_at is None


@pytest.fixture
def committed_reminder(cast, django_db_blocker):
    with django_db_blocker.unblock():
        broker = committed_brokerage("rm", "Corredora Aviso")
        with broker:
            lead = Lead.objects.create(name="Pía", channel="telegram", channel_user_id="31")
            Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="31")
            appointment = appointment_make(lead=lead, agent_id=agent_make().id,
                                           start=timezone.now() + timedelta(minutes=50))
            Appointment.objects.filter(pk=appointment.pk).update(created_at=timezone.now() - timedelta(days=2))
        yield broker
        connection.set_schema_to_public()


def test_two_runs_at_the_same_moment_send_one_reminder(committed_reminder, django_db_blocker):
    barrier, counts = threading.Barrier(2), []

    def run() -> None:
        with django_db_blocker.unblock():
            try:
                with committed_reminder:
                    barrier.wait()
                    counts.append(services.reminders_send())
            finally:
                connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(counts) == [0, 1]
    with django_db_blocker.unblock(), committed_reminder:
        assert Message.objects.filter(sender="system").count() == 1
