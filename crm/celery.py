"""Celery application. Tasks inherit the schema of the code that enqueued them."""

import logging
import os

from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready, worker_shutdown
from tenant_schemas_celery.app import CeleryApp, get_schema_name_from_task

from crm.logging import reset_log_context, restore_log_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = CeleryApp("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "worker-heartbeat": {"task": "crm.tasks.worker_heartbeat", "schedule": 30.0},
    "conversations-requeue-stale": {"task": "conversations.requeue_stale_all", "schedule": 120.0},
    # Inactivity penalties grow with time alone; 03:00 Santiago (CELERY_TIMEZONE) is the quiet hour.
    "appointments-reminders": {"task": "appointments.tasks.reminders_all_brokerages", "schedule": 300.0},
    # Google free/busy is read every 5 minutes: a time taken on Google stops being offered within that.
    "appointments-google-busy": {"task": "appointments.tasks.google_busy_sync_all_brokerages",
                                 "schedule": 300.0},
    "leads-nightly-rescore": {"task": "leads.tasks.leads_rescore_all_brokerages",
                              "schedule": crontab(hour=3, minute=0)},
}


@task_prerun.connect
def _log_context_for_task(task_id=None, task=None, kwargs=None, **_) -> None:
    """A task's log lines carry its id and its brokerage's schema, and nothing of whatever ran before
    on the same worker thread (another brokerage's task, a request)."""
    task.request.log_context_token = reset_log_context(task_id=task_id,
                                                       broker=get_schema_name_from_task(task, kwargs or {}))


@task_postrun.connect
def _log_context_after_task(task=None, **_) -> None:
    token = getattr(task.request, "log_context_token", None)
    if token is not None:
        restore_log_context(token)


@worker_ready.connect
@worker_process_init.connect  # a prefork pool's child
def _turns_wait_on_the_loop(**_) -> None:
    from crm.llm import waiting

    waiting.enable()


@worker_shutdown.connect
def _finish_the_turns_in_flight(**_) -> None:
    from django.conf import settings

    from crm.llm import waiting

    if not waiting.drain(settings.LLM_DRAIN_SECONDS):
        logging.getLogger(__name__).warning("turns still waiting on the LLM at shutdown; the sweep re-queues them")
