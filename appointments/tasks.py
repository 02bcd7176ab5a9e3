"""Agenda tasks: visit reminders, and the Google Calendar sync (push one appointment, read busy times).

Beat runs the fan-outs in the public schema; each brokerage's work runs in its own schema.
"""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from appointments import google_sync
from appointments.google import GoogleError
from appointments.services import reminders_send
from crm.tenancy import for_each_brokerage


@shared_task(name="appointments.tasks.reminders_all_brokerages", ignore_result=True)
def reminders_all_brokerages() -> int:
    """Beat entry (public schema): one reminder run per active brokerage, in its schema."""
    return for_each_brokerage(reminders_brokerage)


@shared_task(name="appointments.tasks.reminders_brokerage", ignore_result=True, autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=3)
def reminders_brokerage() -> int:
    """Idempotent: every reminder is claimed in the database before it is sent."""
    return reminders_send()


@shared_task(bind=True, acks_late=True, name="appointments.tasks.appointment_google_push", ignore_result=True,
             max_retries=None)
def appointment_google_push_task(self, appointment_id: int) -> str | None:
    """Idempotent (the appointment's state as it is when the task runs). Google down or throttling:
    retried with exponential back-off; after GOOGLE_PUSH_MAX_RETRIES, or at once when Google refuses
    the request, the appointment is marked as not synced (and stays booked)."""
    try:
        return google_sync.appointment_google_push(appointment_id=appointment_id)
    except GoogleError as error:
        retries = self.request.retries
        if error.retryable and retries < settings.GOOGLE_PUSH_MAX_RETRIES:
            raise self.retry(exc=error, countdown=settings.GOOGLE_PUSH_RETRY_BASE_SECONDS * 2 ** retries) from error
        google_sync.appointment_google_failed(appointment_id=appointment_id, error=error)
        return None


@shared_task(name="appointments.tasks.google_busy_sync_all_brokerages", ignore_result=True)
def google_busy_sync_all_brokerages() -> int:
    """Beat entry (public schema), every 5 minutes: each brokerage reads its agents' Google free/busy."""
    return for_each_brokerage(google_busy_sync_agent_task)


@shared_task(name="appointments.tasks.google_busy_sync", ignore_result=True, autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=3)
def google_busy_sync_agent_task(agent_id: int | None = None) -> int:
    """Every connected calendar of the brokerage in use, or only `agent_id`'s (right after connecting)."""
    return google_sync.google_busy_sync_all(agent_id=agent_id)
