"""Background work on leads: the nightly rescoring (time-based parts of the score change with no event)
and CSV imports."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from brokers.models import Broker
from leads import imports
from leads.scoring import lead_rescore_all
from leads.selectors import lead_config_get


@shared_task(name="leads.tasks.leads_rescore_all_brokerages", ignore_result=True)
def leads_rescore_all_brokerages() -> None:
    """Beat entry (public schema): one rescoring task per active brokerage, each in its own schema."""
    brokers = Broker.objects.filter(is_active=True).exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
    for broker in brokers.only("id", "schema_name"):
        with broker:  # the task is enqueued carrying this brokerage's schema
            leads_rescore_brokerage.delay()


@shared_task(name="leads.tasks.leads_rescore_brokerage", autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def leads_rescore_brokerage() -> int:
    """Rescore every lead of the current brokerage in batches; idempotent. Returns the leads seen."""
    return lead_rescore_all(config=lead_config_get())


@shared_task(name="leads.tasks.leads_import_run", ignore_result=True)
def leads_import_run(lead_import_id: int) -> None:
    """A CSV import queued by the API, in its brokerage's schema; a finished import is left alone."""
    imports.lead_import_run(lead_import_id=lead_import_id, config=lead_config_get())
