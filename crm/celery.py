"""Celery application. Tasks inherit the schema of the code that enqueued them."""

import os

from celery.schedules import crontab
from tenant_schemas_celery.app import CeleryApp

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
