"""Platform-level tasks."""

import time

from celery import shared_task
from django.conf import settings
from django.db import connection

from crm.redis import redis_client


@shared_task(name="crm.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat pings the worker; /readyz reads the timestamp it leaves behind."""
    redis_client().set(settings.WORKER_HEARTBEAT_KEY, time.time(), ex=300)


@shared_task(name="crm.tasks.tenant_probe")
def tenant_probe() -> dict:
    """Report which brokerage schema a task runs in (tenancy tests and diagnostics)."""
    from brokers.models import Broker

    tenant = Broker.objects.get(schema_name=connection.schema_name)
    return {"schema": connection.schema_name, "broker": tenant.slug}
