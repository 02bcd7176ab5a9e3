"""Live events for the dashboard, sent only once the transaction that caused them commits."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.utils import timezone

from crm.realtime.groups import broker_group, user_group

logger = logging.getLogger(__name__)


def envelope(event: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": event, "data": data, "ts": timezone.now().isoformat()}


def broadcast(event: str, data: dict[str, Any], *, user_ids: list[int] | None = None,
              broker_id: int | None = None) -> None:
    """Send `event` to every dashboard of the current brokerage, or only to `user_ids`.

    Called inside a transaction, it waits for the commit; a rolled-back change is never announced.
    """
    broker_id = broker_id if broker_id is not None else connection.tenant.id
    groups = [user_group(broker_id, uid) for uid in user_ids] if user_ids is not None else [broker_group(broker_id)]
    message = {"type": "dashboard.event", "payload": envelope(event, data)}

    def send() -> None:
        layer = get_channel_layer()
        try:
            for group in groups:
                async_to_sync(layer.group_send)(group, message)
        except Exception:  # a live update is best effort: never fail the committed change over it
            logger.warning("broadcast of %s failed", event, exc_info=True)

    transaction.on_commit(send)
