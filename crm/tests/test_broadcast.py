"""Live events go out through the process's publisher thread: after the commit, in order, to the
brokerage's own group only, and never for a rolled-back change."""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from crm.realtime.broadcast import broadcast, publisher
from crm.realtime.groups import broker_group


async def _messages(channel: str, seconds: float = 0.5) -> list[dict]:
    """Every group message that reaches `channel` until it stays quiet for `seconds`."""
    layer, messages = get_channel_layer(), []
    while True:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), seconds))
        except TimeoutError:
            return messages


async def _received(channel: str, seconds: float = 0.5) -> list[dict]:
    """The events that reach `channel`, in order, whether sent one by one or together."""
    return [payload for message in await _messages(channel, seconds)
            for payload in message.get("payloads", [message.get("payload")])]


def _listen(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def test_events_reach_the_brokerage_group_in_order_once_committed(broker_a, broker_b,
                                                                   django_capture_on_commit_callbacks):
    mine, theirs = _listen(broker_group(broker_a.id)), _listen(broker_group(broker_b.id))
    early = _listen(broker_group(broker_a.id))  # each channel is read from one event loop only
    with broker_a, django_capture_on_commit_callbacks(execute=False) as callbacks:
        for number in range(20):
            broadcast("lead_updated", {"lead_id": number})
    assert publisher.flush() and async_to_sync(_received)(early, 0.2) == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert publisher.flush()
    events = async_to_sync(_received)(mine)
    assert [e["event"] for e in events] == ["lead_updated"] * 20
    assert [e["data"]["lead_id"] for e in events] == list(range(20))
    assert async_to_sync(_received)(theirs, 0.2) == []  # brokerage B hears nothing of A's


def test_a_rolled_back_change_is_never_announced(broker_a, django_capture_on_commit_callbacks):
    channel = _listen(broker_group(broker_a.id))
    with broker_a, django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            broadcast("lead_updated", {"lead_id": 1})
            raise RuntimeError("rolled back")
    assert callbacks == []
    assert publisher.flush() and async_to_sync(_received)(channel, 0.2) == []


def test_threads_without_an_event_loop_publish_without_waiting_for_redis(broker_a):
    """Worker threads (Celery's thread pool) hand events over; the one publisher loop sends them."""
    channel = _listen(broker_group(broker_a.id))
    message = {"type": "dashboard.event", "payload": {"event": "ping", "data": {}, "ts": ""}}
    threads = [threading.Thread(target=publisher.publish, args=([broker_group(broker_a.id)], message))
               for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert publisher.flush()
    assert [e["event"] for e in async_to_sync(_received)(channel)] == ["ping"] * 5


def test_events_published_while_the_publisher_is_busy_go_out_together_in_order(broker_a):
    """A worker publishing faster than one group message at a time: what piled up is one message."""
    channel = _listen(broker_group(broker_a.id))
    publisher.publish(["nobody"], {"type": "dashboard.event", "payload": {"event": "ping"}})  # its loop runs
    assert publisher.flush()
    released = threading.Event()
    publisher._loop.call_soon_threadsafe(released.wait, 5)  # the publisher's loop is busy for a while
    for number in range(20):
        publisher.publish([broker_group(broker_a.id)], {"type": "dashboard.event",
                                                         "payload": {"event": "lead_updated", "n": number}})
    released.set()
    assert publisher.flush()
    [message] = async_to_sync(_messages)(channel)
    assert message["type"] == "dashboard.events"
    assert [payload["n"] for payload in message["payloads"]] == list(range(20))
