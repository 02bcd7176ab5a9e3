"""The tenancy wall for the cross-cutting pieces: cache, Celery, WebSockets, logs."""

import asyncio
import contextvars
import json
import logging
import uuid

import pytest
from celery import shared_task
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection

from crm.asgi import application
from crm.logging import ContextFilter, JsonFormatter, bind_log_context, redact
from crm.realtime.groups import broker_group


@pytest.mark.django_db
def test_cache_keys_are_prefixed_with_the_brokerage_schema(broker_a, broker_b):
    key = f"home-numbers-{uuid.uuid4().hex}"
    with broker_a:
        cache.set(key, "alfa")
    with broker_b:
        assert cache.get(key) is None
        cache.set(key, "beta")
    with broker_a:
        assert cache.get(key) == "alfa"


@pytest.mark.worker
@pytest.mark.django_db
def test_celery_task_runs_in_the_schema_of_the_caller(broker_a, broker_b, celery_worker_process):
    from crm.tasks import tenant_probe

    with broker_a:
        result_a = tenant_probe.delay()
    with broker_b:
        result_b = tenant_probe.delay()
    assert result_a.get(timeout=30) == {"schema": "b_alfa", "broker": "alfa"}
    assert result_b.get(timeout=30) == {"schema": "b_beta", "broker": "beta"}


def _session_cookie(user, host: str) -> str:
    from django.test import Client

    client = Client(HTTP_HOST=host)
    client.force_login(user, backend="brokers.auth.HostBoundBackend")
    return client.cookies["sessionid"].value


async def _connect(path: str, host: str, cookie: str | None):
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


@pytest.fixture
def committed_sessions(cast, django_db_blocker):
    """Sessions committed for real (no test transaction): the consumer reads them from its own
    thread and connection, as in production."""
    from brokers.models import User

    with django_db_blocker.unblock():
        users = {key: User.objects.get(email=email) for key, email in
                 (("admin_a", "admin@alfa.cl"), ("admin_b", "admin@beta.cl"), ("agent_a", "agente@alfa.cl"))}
        yield {key: (user, _session_cookie(user, f"{user.broker.slug}.localhost")) for key, user in users.items()}


async def test_websocket_joins_only_its_own_brokerage_and_receives_its_events(cast, committed_sessions):
    user_a, cookie_a = committed_sessions["admin_a"]
    user_b, cookie_b = committed_sessions["admin_b"]
    ws_a, ok_a, _ = await _connect(f"/ws/{cast.broker_a_id}/{user_a.pk}/", "alfa.localhost", cookie_a)
    ws_b, ok_b, _ = await _connect(f"/ws/{cast.broker_b_id}/{user_b.pk}/", "beta.localhost", cookie_b)
    assert ok_a and ok_b

    envelope = {"event": "lead_updated", "data": {"id": 1}, "ts": "2026-11-28T10:00:00-03:00"}
    await get_channel_layer().group_send(broker_group(cast.broker_a_id),
                                         {"type": "dashboard.event", "payload": envelope})

    assert await ws_a.receive_json_from(timeout=5) == envelope
    assert await ws_b.receive_nothing(timeout=0.5)
    await ws_a.disconnect()
    await ws_b.disconnect()


async def test_events_sent_together_reach_the_socket_one_by_one_in_order(cast, committed_sessions):
    user_a, cookie_a = committed_sessions["admin_a"]
    user_b, cookie_b = committed_sessions["admin_b"]
    ws_a, ok_a, _ = await _connect(f"/ws/{cast.broker_a_id}/{user_a.pk}/", "alfa.localhost", cookie_a)
    ws_b, ok_b, _ = await _connect(f"/ws/{cast.broker_b_id}/{user_b.pk}/", "beta.localhost", cookie_b)
    assert ok_a and ok_b
    envelopes = [{"event": "typing", "data": {"conversation_id": 1}, "ts": "2026-12-03T10:00:00-03:00"},
                 {"event": "ai_response", "data": {"conversation_id": 1}, "ts": "2026-12-03T10:00:01-03:00"}]
    await get_channel_layer().group_send(broker_group(cast.broker_a_id),
                                         {"type": "dashboard.events", "payloads": envelopes})

    assert [await ws_a.receive_json_from(timeout=5) for _ in envelopes] == envelopes
    assert await ws_b.receive_nothing(timeout=0.5)
    await ws_a.disconnect()
    await ws_b.disconnect()


async def test_a_quiet_dashboard_socket_still_gets_the_next_event(cast, committed_sessions):
    """Nothing happens for longer than the channel layer's 5 s wait for an event; the socket stays."""
    user_a, cookie_a = committed_sessions["admin_a"]
    ws_a, connected, _ = await _connect(f"/ws/{cast.broker_a_id}/{user_a.pk}/", "alfa.localhost", cookie_a)
    assert connected
    assert await ws_a.receive_nothing(timeout=6.5)

    envelope = {"event": "lead_updated", "data": {"id": 2}, "ts": "2026-11-28T10:00:00-03:00"}
    await get_channel_layer().group_send(broker_group(cast.broker_a_id),
                                         {"type": "dashboard.event", "payload": envelope})
    assert await ws_a.receive_json_from(timeout=5) == envelope
    await ws_a.disconnect()


async def test_a_socket_that_closes_while_it_starts_listening_leaves_nothing_running():
    """A consumer stops listening (its socket closed) at any moment, even while its Redis connection
    is being opened: what listened for it ends at once, it does not keep polling Redis for ever."""
    layer = get_channel_layer()
    stuck = []
    for step in range(40):
        listening = asyncio.ensure_future(layer.receive(await layer.new_channel()))
        await asyncio.sleep(step / 10_000)
        listening.cancel()
        done, _ = await asyncio.wait([listening], timeout=1)
        if not done:
            stuck.append(step / 10)
            listening.cancel()
    assert stuck == [], f"still listening after being cancelled {', '.join(map(str, stuck))} ms in"


@pytest.mark.parametrize(
    ("who", "path_broker", "host"),
    [
        ("admin_a", "b", "alfa.localhost"),  # path names another brokerage
        ("admin_a", "b", "beta.localhost"),  # A's session presented on B's host
        ("anonymous", "a", "alfa.localhost"),  # no session at all
    ],
)
async def test_websocket_refuses_foreign_or_anonymous_connections(cast, committed_sessions, who, path_broker, host):
    user, cookie = committed_sessions.get(who, (None, None))
    broker_id = cast.broker_a_id if path_broker == "a" else cast.broker_b_id
    user_id = user.pk if user else 1
    _, connected, _ = await _connect(f"/ws/{broker_id}/{user_id}/", host, cookie)
    assert not connected


async def test_websocket_refuses_a_path_naming_another_user(cast, committed_sessions):
    user_a, cookie_a = committed_sessions["admin_a"]
    agent_a, _ = committed_sessions["agent_a"]
    _, connected, _ = await _connect(f"/ws/{cast.broker_a_id}/{agent_a.pk}/", "alfa.localhost", cookie_a)
    assert not connected


async def test_websocket_on_unknown_host_is_refused(cast, committed_sessions):
    _, connected, _ = await _connect("/ws/1/1/", "noexiste.localhost", None)
    assert not connected


def test_log_lines_are_json_with_context_and_without_personal_data():
    record = logging.LogRecord("crm", logging.INFO, __file__, 1,
                               "lead juan.perez@gmail.com +56 9 8765 4321 token=abc123", None, None)
    # In a context of its own, as each request and task has: later tests' lines do not carry b_alfa.
    contextvars.copy_context().run(lambda: (bind_log_context(request_id="req-1", broker="b_alfa", user_id=7),
                                            ContextFilter().filter(record)))
    line = json.loads(JsonFormatter().format(record))
    assert (line["request_id"], line["broker"], line["user_id"]) == ("req-1", "b_alfa", 7)
    assert "juan.perez" not in line["message"] and "8765" not in line["message"] and "abc123" not in line["message"]


def _log_fields() -> dict:
    record = logging.LogRecord("crm", logging.INFO, __file__, 1, "probe", None, None)
    ContextFilter().filter(record)
    return {field: getattr(record, field, None) for field in JsonFormatter.FIELDS}


@shared_task(name="crm.tests.log_context_probe")
def log_context_probe() -> dict:
    return _log_fields()


def test_a_task_logs_with_its_own_id_and_brokerage_then_hands_the_context_back(broker_a):
    def queued_from_a_request():
        bind_log_context(request_id="req-9", broker="b_beta", user_id=9)
        result = log_context_probe.apply(headers={"_schema_name": broker_a.schema_name})
        return result, _log_fields()

    result, after = contextvars.copy_context().run(queued_from_a_request)
    assert result.get() == {"request_id": None, "broker": broker_a.schema_name, "user_id": None,
                            "task_id": result.id}
    assert after == {"request_id": "req-9", "broker": "b_beta", "user_id": 9, "task_id": None}


def test_redact_keeps_ordinary_text_and_ids():
    assert redact("lead moved to perfilamiento") == "lead moved to perfilamiento"
    task = "Task properties.units_embed[7f01234f-5678-4f66-af60-36b911c57094] succeeded in 6.1234567s"
    assert redact(task) == task


@pytest.mark.parametrize("phone", ["+56 9 8765 4321", "+56987654321", "9-8765-4321", "(tel: 987654321)"])
def test_redact_hides_phone_numbers_however_written(phone):
    assert "8765" not in redact(f"lead wrote {phone}, call back")


@pytest.mark.django_db
def test_request_id_is_echoed_and_health_endpoints_answer(cast, page_client):
    response = page_client("alfa.localhost").get("/healthz", HTTP_X_REQUEST_ID="abc")
    assert response.json() == {"status": "ok"} and response["X-Request-ID"] == "abc"
    ready = page_client("localhost").get("/readyz").json()
    assert ready["checks"]["database"] == "ok" and ready["checks"]["redis"] == "ok"
    assert connection.schema_name == "public"
