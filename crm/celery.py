"""Celery application. Tasks inherit the schema of the code that enqueued them."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = CeleryApp("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "worker-heartbeat": {"task": "crm.tasks.worker_heartbeat", "schedule": 30.0},
}
