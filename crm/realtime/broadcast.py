"""Live events for the dashboard, sent only once the transaction that caused them commits.

The send itself never makes the caller wait: each process has one publisher thread running its
own event loop (so channels-redis keeps its pooled connection instead of a new loop and a new
Redis connection per `async_to_sync` call), and committed events are handed to it in order.
"""

import asyncio
import atexit
import logging
import os
import threading
from typing import Any

from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.utils import timezone

from crm.realtime.groups import broker_group, user_group

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 2.0  # at process exit, how long pending events may still take to go out


def envelope(event: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": event, "data": data, "ts": timezone.now().isoformat()}


class Publisher:
    """A daemon thread with an event loop that sends queued group messages one after another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None

    def publish(self, groups: list[str], message: dict[str, Any]) -> None:
        loop, queue = self._started()
        loop.call_soon_threadsafe(queue.put_nowait, (groups, message))

    def flush(self, timeout: float = FLUSH_SECONDS) -> bool:
        """Wait until every event published so far has gone out (or failed); False on timeout."""
        if self._loop is None or self._pid != os.getpid():
            return True
        done = threading.Event()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, done)
        return done.wait(timeout)

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: the parent's thread is not here
                ready = threading.Event()
                threading.Thread(target=self._run, args=(ready,), name="broadcast", daemon=True).start()
                ready.wait()
                self._pid = os.getpid()
        return self._loop, self._queue

    def _run(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._queue = asyncio.Queue()
        ready.set()
        self._loop.run_until_complete(self._send_forever())

    async def _send_forever(self) -> None:
        layer = get_channel_layer()
        while True:
            items = [await self._queue.get()]
            while not self._queue.empty():  # what was published while the last send went out
                items.append(self._queue.get_nowait())
            await self._send(layer, items)

    async def _send(self, layer, items: list) -> None:
        """Send queued events, in order, one group message per group: a worker publishing faster than
        one `group_send` at a time (each a few Redis round trips) sends them as one list
        (`dashboard.events`, which the consumer forwards one by one). A flush marker is set once
        everything queued before it has gone out."""
        by_group: dict[str, list[dict[str, Any]]] = {}
        flushes = []
        for item in items:
            if isinstance(item, threading.Event):
                flushes.append(item)
                continue
            groups, message = item
            for group in groups:
                by_group.setdefault(group, []).append(message)
        for group, messages in by_group.items():
            message = messages[0] if len(messages) == 1 else {
                "type": "dashboard.events", "payloads": [m["payload"] for m in messages]}
            try:
                await layer.group_send(group, message)
            except Exception:  # a live update is best effort: never fail the committed change over it
                logger.warning("broadcast to %s failed", group, exc_info=True)
        for flush in flushes:
            flush.set()


publisher = Publisher()
atexit.register(publisher.flush)


def broadcast(event: str, data: dict[str, Any], *, user_ids: list[int] | None = None,
              broker_id: int | None = None) -> None:
    """Send `event` to every dashboard of the current brokerage, or only to `user_ids`.

    Called inside a transaction, it waits for the commit; a rolled-back change is never announced.
    """
    broker_id = broker_id if broker_id is not None else connection.tenant.id
    groups = [user_group(broker_id, uid) for uid in user_ids] if user_ids is not None else [broker_group(broker_id)]
    message = {"type": "dashboard.event", "payload": envelope(event, data)}
    transaction.on_commit(lambda: publisher.publish(groups, message))
