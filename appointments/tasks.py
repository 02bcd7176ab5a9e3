"""Visit reminders: beat runs the fan-out every few minutes; each brokerage sends its own."""

from celery import shared_task
from django.db import OperationalError

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
