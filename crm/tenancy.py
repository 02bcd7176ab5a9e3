"""Small tenancy helpers shared by every app's services and tasks."""

import logging
from collections.abc import Callable

from celery import Task
from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args, **kwargs) -> None:
    """Queue `task` once the current transaction commits, in the brokerage schema in use *now*
    (whatever schema the connection is in when the commit callback finally runs)."""
    tenant = connection.tenant

    def enqueue() -> None:
        previous = connection.tenant
        connection.set_tenant(tenant)
        try:
            task.delay(*args, **kwargs)
        except Exception:  # the work is committed; periodic sweeps (e.g. conversations.requeue_stale) retry it
            logger.warning("could not queue %s; left for the sweep", task.name, exc_info=True)
        finally:
            connection.set_tenant(previous)

    transaction.on_commit(enqueue)


def for_each_brokerage(task: Task | Callable) -> int:
    """Beat helper (runs in the public schema): queue `task` once per active brokerage, in its schema."""
    from brokers.models import Broker

    brokers = Broker.objects.filter(is_active=True).exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
    count = 0
    for broker in brokers.only("id", "schema_name"):
        with broker:
            task.delay()
        count += 1
    return count
