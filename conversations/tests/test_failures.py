"""What fails for good: it becomes a dead letter the brokerage's ADMIN sees under Conversaciones → Fallidos
(and over the API), retries or dismisses; nothing of it is visible or actionable from another brokerage."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import host_of
from conversations import intake, orchestrator, tasks
from conversations.models import Conversation, DeadLetter, InboundEvent, Message
from conversations.tests.channel_stubs import telegram_update
from leads.tests.factories import lead_make

FAILURES = "/conversaciones/fallidos/"
API = "/api/v1/chat/dead-letters/"


def unreadable_delivery(update_id: int) -> InboundEvent:
    """A stored Telegram update the parser cannot read (its chat has no id)."""
    update = telegram_update(update_id, "Hola, busco depto en Ñuñoa")
    update["message"]["chat"] = {}
    event = InboundEvent.objects.create(channel="telegram", external_id=str(update_id), payload=update)
    InboundEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    return event


def failed_message(*, direction: str, text: str) -> DeadLetter:
    lead = lead_make(name="Ana Pérez", channel="telegram", channel_user_id="4242")
    conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="4242")
    inbound = Message.objects.create(conversation=conversation, channel="telegram", direction="in", sender="lead",
                                     text="Hola, me llamo Ana y busco casa en Maipú", external_id="9001",
                                     status="dead" if direction == "in" else "processed")
    message = inbound if direction == "in" else Message.objects.create(
        conversation=conversation, channel="telegram", direction="out", sender="assistant", reply_to=inbound,
        text=text, status="failed", error="Telegram 500")
    return DeadLetter.objects.create(message=message, task="conversations.send_outbound", attempts=5,
                                     error="RetryableSendError('Telegram 500: Internal Server Error')")


@pytest.fixture
def admin(page_client, broker_a, admin_a):
    return page_client(host_of(broker_a), admin_a)


def test_a_delivery_that_keeps_failing_is_dead_lettered_once_and_the_sweep_leaves_it_to_the_admin(
        broker_a, eager_tasks):
    with broker_a:
        event = unreadable_delivery(8101)
        tasks.process_event.delay(event.id)  # eager: every retry runs right here
        dead = DeadLetter.objects.get()
        assert (dead.event_id, dead.message_id, dead.attempts) == (event.id, None, 5)
        assert "KeyError" in dead.error
        assert intake.stale_events_requeue() == 0  # not retried every two minutes for a day
        assert not Message.objects.exists()


def test_the_admin_sees_each_kind_of_failure_and_the_count_on_the_tab(admin, broker_a):
    with broker_a:
        unreadable_delivery(8102)
        DeadLetter.objects.create(event=InboundEvent.objects.get(), task="conversations.process_event",
                                  error="KeyError('id')", attempts=5)
        failed_message(direction="out", text="¡Hola Ana! ¿Qué presupuesto tienes?")
    page = admin.get(FAILURES).content.decode()
    for text in ("Entrega del canal sin leer", "Entrega 8102", "KeyError", "Respuesta que no salió", "Ana Pérez",
                 "¡Hola Ana! ¿Qué presupuesto tienes?", "Reintentar", "Descartar"):
        assert text in page, text
    assert 'aria-current="page">Fallidos' in page
    assert '<span class="badge badge-danger">2</span>' in admin.get("/conversaciones/").content.decode()


def test_an_empty_list_says_so(admin, broker_a):
    assert "No hay fallos pendientes" in admin.get(FAILURES).content.decode()


def test_retrying_a_delivery_processes_it_once_the_problem_is_fixed(
        admin, broker_a, alfa_channels, telegram_stub, offline_llm, eager_tasks, django_capture_on_commit_callbacks):
    with broker_a:
        event = unreadable_delivery(8103)
        dead = DeadLetter.objects.create(event=event, task="conversations.process_event", error="KeyError", attempts=5)
        event.payload = telegram_update(8103, "Hola, busco depto en Ñuñoa", chat_id=5151)  # the bug was fixed
        event.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"{FAILURES}{dead.id}/reintentar/", follow=True)
    assert "Se volvió a poner en cola" in response.content.decode()
    assert "No hay fallos pendientes" in response.content.decode()
    with broker_a:
        assert Message.objects.get(direction="in").text == "Hola, busco depto en Ñuñoa"
        assert Message.objects.get(direction="out").status == "sent"  # its turn ran and the reply went out
        event.refresh_from_db()
        assert event.processed_at is not None
    assert telegram_stub.sent_texts()


def test_retrying_a_lead_message_runs_its_turn(admin, broker_a, alfa_channels, telegram_stub, offline_llm,
                                               eager_tasks, django_capture_on_commit_callbacks):
    with broker_a:
        dead = failed_message(direction="in", text="")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"{FAILURES}{dead.id}/reintentar/")
    with broker_a:
        assert Message.objects.get(pk=dead.message_id).status == "processed"
        assert Message.objects.get(direction="out", reply_to_id=dead.message_id).status == "sent"
        assert DeadLetter.objects.get().resolved


def test_retrying_a_reply_sends_the_same_text_again(admin, broker_a, alfa_channels, telegram_stub, eager_tasks,
                                                    django_capture_on_commit_callbacks):
    with broker_a:
        dead = failed_message(direction="out", text="¡Hola Ana! ¿Qué presupuesto tienes?")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"{FAILURES}{dead.id}/reintentar/")
    assert telegram_stub.sent_texts() == ["¡Hola Ana! ¿Qué presupuesto tienes?"]
    with broker_a:
        reply = Message.objects.get(pk=dead.message_id)
        assert (reply.status, reply.error) == ("sent", "")


def test_dismissing_takes_it_off_the_list_and_twice_is_a_clear_error(admin, broker_a):
    with broker_a:
        dead = failed_message(direction="out", text="¡Hola Ana!")
    response = admin.post(f"{FAILURES}{dead.id}/descartar/", follow=True)
    assert "Se quitó de la lista." in response.content.decode()
    again = admin.post(f"{FAILURES}{dead.id}/descartar/", follow=True)
    assert "Ese fallo ya se resolvió." in again.content.decode()
    with broker_a:
        assert Message.objects.get(pk=dead.message_id).status == "failed"  # dismissed, not retried


def test_agents_neither_see_nor_act_on_failures(page_client, broker_a, agent_a, api_client):
    with broker_a:
        dead = failed_message(direction="out", text="¡Hola Ana!")
    agent = page_client(host_of(broker_a), agent_a)
    assert agent.get(FAILURES).status_code == 403
    assert agent.post(f"{FAILURES}{dead.id}/reintentar/").status_code == 403
    assert "Fallidos" not in agent.get("/conversaciones/").content.decode()
    assert api_client(host_of(broker_a), agent_a).post(f"{API}{dead.id}/retry/").status_code == 403
    with broker_a:
        assert not DeadLetter.objects.get().resolved


def test_over_the_api_the_admin_retries_and_dismisses_with_json_answers(
        broker_a, admin_a, api_client, eager_tasks, django_capture_on_commit_callbacks):
    with broker_a:
        dead = failed_message(direction="out", text="¡Hola Ana!")
    client = api_client(host_of(broker_a), admin_a)
    listed = client.get(API).json()["results"]
    assert [(item["id"], item["event_id"]) for item in listed] == [(dead.id, None)]
    with django_capture_on_commit_callbacks(execute=False):  # queued, not run: the outbox has no channel here
        assert client.post(f"{API}{dead.id}/retry/").json()["id"] == dead.id
    refused = client.post(f"{API}{dead.id}/dismiss/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "dead_letter_resolved"
    assert client.get(API).json()["count"] == 0


def test_another_brokerage_can_neither_see_nor_retry_them(page_client, api_client, broker_a, broker_b, admin_b):
    with broker_a:
        dead = failed_message(direction="out", text="¡Hola Ana!")
    other = page_client(host_of(broker_b), admin_b)
    assert "Ana Pérez" not in other.get(FAILURES).content.decode()
    other.post(f"{FAILURES}{dead.id}/reintentar/")
    refused = api_client(host_of(broker_b), admin_b).post(f"{API}{dead.id}/retry/")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert api_client(host_of(broker_b), admin_b).get(API).json()["count"] == 0
    with broker_a:
        assert not DeadLetter.objects.get().resolved
        assert Message.objects.get(pk=dead.message_id).status == "failed"


def test_a_turn_failing_after_its_llm_call_is_retried_as_its_task_would_then_dead_lettered(broker_a, monkeypatch):
    """The end of a turn that waited on the worker's loop runs outside any task: its failure queues
    the next attempt with the back-off and the count a retry would have, and the last one is buried."""
    queued = []
    monkeypatch.setattr(tasks.process_inbound, "apply_async", lambda args, **options: queued.append((args, options)))
    with broker_a:
        lead = lead_make(name="Ana Pérez", channel="telegram", channel_user_id="4343")
        conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="4343")
        inbound = Message.objects.create(conversation=conversation, channel="telegram", direction="in", sender="lead",
                                         text="Hola, busco casa en Maipú", external_id="9101", status="received")
        tasks._turn_failed(inbound.id, 0, RuntimeError("db down"))
        assert queued == [((inbound.id,), {"countdown": tasks.RETRY_BACKOFF_SECONDS[0], "retries": 1})]
        tasks._turn_failed(inbound.id, len(tasks.RETRY_BACKOFF_SECONDS), RuntimeError("db down"))
        dead = DeadLetter.objects.get()
        inbound.refresh_from_db()
    assert len(queued) == 1
    assert (dead.message_id, dead.task, dead.attempts) == (inbound.id, "conversations.process_inbound", 5)
    assert inbound.status == "dead" and "db down" in dead.error


def test_waiting_for_a_busy_lead_is_not_counted_as_a_failed_attempt(broker_a, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.process_inbound, "apply_async", lambda args, **options: queued.append((args, options)))
    monkeypatch.setattr(orchestrator, "LOCK_WAIT_SECONDS", 0.1)
    with broker_a:
        lead = lead_make(name="Ana Pérez", channel="telegram", channel_user_id="4444")
        conversation = Conversation.objects.create(lead=lead, channel="telegram", channel_user_id="4444")
        inbound = Message.objects.create(conversation=conversation, channel="telegram", direction="in", sender="lead",
                                         text="¿Sigue disponible?", external_id="9102", status="received")
        tasks.process_inbound.push_request(retries=2)  # its third attempt
        try:
            with orchestrator.lead_lock(lead.id):  # another turn of this lead is running
                tasks.process_inbound.run(inbound.id)
        finally:
            tasks.process_inbound.pop_request()
        inbound.refresh_from_db()
        assert not DeadLetter.objects.exists()
    assert queued == [((inbound.id,), {"countdown": 1, "retries": 2})]
    assert inbound.status == "received"
