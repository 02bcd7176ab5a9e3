"""Celery tasks: process a webhook delivery, run a conversation turn, send an outbound message. All
idempotent, acks_late, retried with back-off; what finally fails becomes a DeadLetter the brokerage's
ADMIN sees (and may retry) under Conversaciones → Fallidos."""

from collections.abc import Callable

from celery import Task, shared_task
from django.db import transaction

from conversations import delivery, intake, orchestrator
from conversations.models import DeadLetter, InboundEvent, Message
from crm.tenancy import for_each_brokerage

RETRY_BACKOFF_SECONDS = (2, 10, 60, 300)


def _bury_message(task, message_id: int, exc: Exception) -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return
        final = Message.Status.DEAD if message.direction == Message.Direction.IN else Message.Status.FAILED
        message.status, message.error = final, str(exc)[:300]
        message.save(update_fields=["status", "error", "status_at"])
        DeadLetter.objects.create(message=message, task=task.name, error=repr(exc)[:2000],
                                  attempts=task.request.retries + 1)


def _bury_event(task, event_id: int, exc: Exception) -> None:
    """A delivery that cannot be turned into messages: the sweep leaves it to the ADMIN from now on."""
    if InboundEvent.objects.filter(pk=event_id, processed_at__isnull=True).exists():
        DeadLetter.objects.create(event_id=event_id, task=task.name, error=repr(exc)[:2000],
                                  attempts=task.request.retries + 1)


def _retry_or_bury(task: Task, bury: Callable[[Task, int, Exception], None], target_id: int, exc: Exception):
    retries = task.request.retries
    if retries >= len(RETRY_BACKOFF_SECONDS):
        bury(task, target_id, exc)
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
            orchestrator.run_turn(message_id=message_id, lead_id=lead_id)
        except Exception:  # noqa: BLE001 — TurnBusy or a failure: its own task waits, retries, dead-letters
            process_inbound.apply_async((message_id,), countdown=1)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=len(RETRY_BACKOFF_SECONDS),
             name="conversations.process_inbound")
def process_inbound(self, message_id: int) -> None:
    try:
        orchestrator.run_turn(message_id=message_id)
    except orchestrator.TurnBusy as exc:
        # Another turn of the same lead is running: wait for it rather than give up.
        raise self.retry(exc=exc, countdown=1, max_retries=None) from exc
    except Exception as exc:  # noqa: BLE001 — any failure is retried, then dead-lettered
        return _retry_or_bury(self, _bury_message, message_id, exc)


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
