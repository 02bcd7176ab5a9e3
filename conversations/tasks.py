"""Celery tasks: process a webhook delivery, run a conversation turn, send an outbound message. All
idempotent, acks_late, retried with back-off; what finally fails becomes a DeadLetter the brokerage's
ADMIN sees (and may retry) under Conversaciones → Fallidos."""

from collections.abc import Callable
from functools import partial

from celery import Task, shared_task
from django.db import transaction

from conversations import delivery, intake, orchestrator
from conversations.models import DeadLetter, InboundEvent, Message
from crm.llm.waiting import llm_wait_loop
from crm.tenancy import for_each_brokerage

RETRY_BACKOFF_SECONDS = (2, 10, 60, 300)


def _bury_message(task_name: str, attempts: int, message_id: int, exc: Exception) -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return
        final = Message.Status.DEAD if message.direction == Message.Direction.IN else Message.Status.FAILED
        message.status, message.error = final, str(exc)[:300]
        message.save(update_fields=["status", "error", "status_at"])
        DeadLetter.objects.create(message=message, task=task_name, error=repr(exc)[:2000], attempts=attempts)


def _bury_event(task_name: str, attempts: int, event_id: int, exc: Exception) -> None:
    """A delivery that cannot be turned into messages: the sweep leaves it to the ADMIN from now on."""
    if InboundEvent.objects.filter(pk=event_id, processed_at__isnull=True).exists():
        DeadLetter.objects.create(event_id=event_id, task=task_name, error=repr(exc)[:2000], attempts=attempts)


def _retry_or_bury(task: Task, bury: Callable[[str, int, int, Exception], None], target_id: int, exc: Exception):
    retries = task.request.retries
    if retries >= len(RETRY_BACKOFF_SECONDS):
        bury(task.name, retries + 1, target_id, exc)
        return None
    raise task.retry(exc=exc, countdown=RETRY_BACKOFF_SECONDS[retries])


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=len(RETRY_BACKOFF_SECONDS),
             name="conversations.process_event")
def process_event(self, event_id: int) -> None:
    """A stored webhook delivery: its messages and receipts, then each new message's turn, right here
    (one task per delivery, not two). A turn that cannot run now gets a task of its own."""
    try:
        received = intake.event_process(event_id=event_id)
    except Exception as exc:  # noqa: BLE001 — retried, then dead-lettered
        return _retry_or_bury(self, _bury_event, event_id, exc)
    for message_id, lead_id in received:
        try:
            _turn(message_id, lead_id=lead_id, retries=0)
        except Exception:  # noqa: BLE001 — TurnBusy or a failure: its own task waits, retries, dead-letters
            process_inbound.apply_async((message_id,), countdown=1)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=len(RETRY_BACKOFF_SECONDS),
             name="conversations.process_inbound")
def process_inbound(self, message_id: int) -> None:
    try:
        _turn(message_id, retries=self.request.retries)
    except orchestrator.TurnBusy:
        # Another turn of the same lead is running: wait for it rather than give up (waiting is
        # not a failed attempt: the retries left stay as they were).
        process_inbound.apply_async((message_id,), countdown=1, retries=self.request.retries)
    except Exception as exc:  # noqa: BLE001 — any failure is retried, then dead-lettered
        return _retry_or_bury(self, _bury_message, message_id, exc)


def _turn(message_id: int, *, retries: int, lead_id: int | None = None) -> None:
    """A turn whose LLM call waits on the worker's event loop when there is one (the task is done once
    the request is sent off); on this thread otherwise."""
    loop = llm_wait_loop()
    if loop is None:
        orchestrator.run_turn(message_id=message_id, lead_id=lead_id)
        return
    orchestrator.run_turn_on_loop(loop, message_id=message_id, lead_id=lead_id,
                                  on_failure=partial(_turn_failed, message_id, retries))


def _turn_failed(message_id: int, retries: int, exc: Exception) -> None:
    """A turn that failed after its LLM call, on a continuation thread: what `self.retry` would do —
    `process_inbound` again after the back-off, counting this attempt, or the dead letter."""
    if retries >= len(RETRY_BACKOFF_SECONDS):
        _bury_message(process_inbound.name, retries + 1, message_id, exc)
        return
    process_inbound.apply_async((message_id,), countdown=RETRY_BACKOFF_SECONDS[retries], retries=retries + 1)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=len(RETRY_BACKOFF_SECONDS),
             name="conversations.send_outbound")
def send_outbound(self, message_id: int) -> None:
    try:
        delivery.message_deliver(message_id=message_id)
    except delivery.RetryableSendError as exc:
        return _retry_or_bury(self, _bury_message, message_id, exc)


@shared_task(name="conversations.requeue_stale_all", ignore_result=True)
def requeue_stale_all() -> int:
    """Beat entry (public schema): look for stranded work in every brokerage."""
    return for_each_brokerage(requeue_stale)


@shared_task(name="conversations.requeue_stale", ignore_result=True)
def requeue_stale() -> int:
    """Safety net for a queue that was unreachable at commit time: stored work is never stranded."""
    return intake.stale_events_requeue() + delivery.stale_requeue()
