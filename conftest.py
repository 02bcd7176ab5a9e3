"""Shared test fixtures: real PostgreSQL schemas, a named cast of brokerages and people,
and real servers (ASGI web, Celery worker) for the tests whose behaviour depends on them."""

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from brokers.middleware import forget_hosts
from brokers.models import Broker, User

ROOT = Path(__file__).resolve().parent
PASSWORD = "clave-segura-2026"

# Property tests check what is computed, never how fast: on a loaded 2-core machine neither the
# per-example deadline nor the "input generation too slow" health check may fail a run.
hypothesis_settings.register_profile("corredora", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("corredora")


@dataclass(frozen=True)
class Cast:
    """Ids of the people every test can rely on: two brokerages, A (alfa) and B (beta)."""

    public_id: int
    broker_a_id: int
    broker_b_id: int


def _create_cast() -> Cast:
    from brokers import services

    public = services.platform_ensure()
    brokers = {}
    for slug, name in (("alfa", "Corredora Alfa"), ("beta", "Corredora Beta")):
        broker = services.broker_register(name=name, slug=slug, admin_email=f"admin@{slug}.cl",
                                          admin_name=f"Admin {name}", password=PASSWORD)
        User.objects.create_user(f"agente@{slug}.cl", PASSWORD, name=f"Agente {name}", role=User.Role.AGENT,
                                 broker=broker)
        brokers[slug] = broker
    User.objects.create_superuser("root@corredora.local", PASSWORD, name="Root")
    connection.set_schema_to_public()
    return Cast(public_id=public.id, broker_a_id=brokers["alfa"].id, broker_b_id=brokers["beta"].id)


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb, django_db_createdb,
                    django_db_modify_db_settings):
    """The test database, always. pytest-django's own fixture creates it only when a collected test asks
    for `db`; a run of browser tests alone would otherwise build the cast in the real database."""
    from django.test.utils import setup_databases, teardown_databases

    keepdb = django_db_keepdb and not django_db_createdb
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=verbosity, interactive=False, aliases={"default"}, keepdb=keepdb)
    yield
    if not keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=verbosity)


@pytest.fixture(scope="session")
def cast(django_db_setup, django_db_blocker) -> Cast:
    with django_db_blocker.unblock():
        yield _create_cast()
        # Servers and consumer threads keep their own connections; end them so the test
        # database can be dropped.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _public_schema_after_each_test():
    yield
    connection.set_schema_to_public()
    forget_hosts()  # a rolled-back test must not leave its brokerage state in the host memo


@pytest.fixture
def broker_a(cast, db) -> Broker:
    return Broker.objects.get(pk=cast.broker_a_id)


@pytest.fixture
def broker_b(cast, db) -> Broker:
    return Broker.objects.get(pk=cast.broker_b_id)


@pytest.fixture
def admin_a(cast, db) -> User:
    return User.objects.get(email="admin@alfa.cl")


@pytest.fixture
def agent_a(cast, db) -> User:
    return User.objects.get(email="agente@alfa.cl")


@pytest.fixture
def admin_b(cast, db) -> User:
    return User.objects.get(email="admin@beta.cl")


@pytest.fixture
def superadmin(cast, db) -> User:
    return User.objects.get(email="root@corredora.local")


def committed_brokerage(prefix: str, name: str, *, admin_name: str = "Admin") -> Broker:
    """A brokerage registered for real under a fresh slug (`<prefix><6 hex>`, ADMIN `admin@<slug>.cl`),
    for tests whose server, worker or threads read it on other connections. Call it with the
    database unblocked."""
    from brokers.services import broker_register

    slug = f"{prefix}{uuid.uuid4().hex[:6]}"
    return broker_register(name=name, slug=slug, admin_email=f"admin@{slug}.cl", admin_name=admin_name,
                           password=PASSWORD)


def host_of(broker: Broker) -> str:
    return f"{broker.slug}.{settings.BASE_DOMAIN}"


@pytest.fixture
def page_client():
    """A browser-like client for a host: page_client(host, user=None)."""

    def make(host: str, user: User | None = None) -> Client:
        client = Client(HTTP_HOST=host)
        if user is not None:
            client.force_login(user, backend="brokers.auth.HostBoundBackend")
        return client

    return make


@pytest.fixture
def api_client():
    """An API client for a host, authenticated as `user` with a real JWT when given."""
    from brokers.auth import tokens_for

    def make(host: str, user: User | None = None) -> APIClient:
        client = APIClient(HTTP_HOST=host)
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user)['access']}")
        return client

    return make


# --- real servers ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    host = db["OPTIONS"].get("host") or db["HOST"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@/{db['NAME']}?host={host}" if host.startswith("/") else (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "crm.settings_test",
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS), "PYTHONUNBUFFERED": "1"}


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def google_stub():
    """Google OAuth + Calendar API stub shared with the web server and the worker
    (they connect and sync through it)."""
    from appointments.tests.google_stub import GoogleStub

    with GoogleStub() as stub:
        yield stub


# The log of each server process a test may use, by fixture name: a failing test's report ends with its tail.
SERVER_LOGS: dict[str, Path] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for fixture, log in SERVER_LOGS.items():
            if fixture in item.fixturenames:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-80:])
                report.sections.append((f"{fixture} log (last 80 lines)", tail))
    return report


@pytest.fixture(scope="session")
def live_server_url(cast, google_stub, tmp_path_factory) -> str:
    """The real ASGI app (uvicorn: HTTP + WebSockets) on the test database, as `make run` serves it."""
    port = _free_port()
    log = SERVER_LOGS["live_server_url"] = tmp_path_factory.mktemp("web") / "web.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "uvicorn"), "crm.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--lifespan", "off", "--no-access-log"],
            cwd=ROOT, env={**_server_env(), **google_stub.settings()}, stdout=out, stderr=subprocess.STDOUT,
        )
    _wait_for_port(port, process, log)
    yield f"http://{settings.BASE_DOMAIN}:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def channel_stubs():
    """Telegram and WhatsApp API stubs shared with the worker process (it sends through them)."""
    from conversations.tests.channel_stubs import TelegramStub, WhatsAppStub

    with TelegramStub() as telegram, WhatsAppStub() as whatsapp:
        yield {"telegram": telegram, "whatsapp": whatsapp}


# Google push retries in the worker: fast back-off, so "retries, then a visible error" takes a second.
WORKER_GOOGLE_RETRIES = {"GOOGLE_PUSH_MAX_RETRIES": "2", "GOOGLE_PUSH_RETRY_BASE_SECONDS": "0.2"}


def worker_start(log: Path, env: dict[str, str], *options: str) -> subprocess.Popen:
    """A real Celery worker (threads pool, separate process) on the test database and the test Redis,
    started with `env` on top of the servers' environment; returned once it is ready."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "crm", "worker", "-l", "info", "--pool", "threads",
             "--without-mingle", "--without-gossip", *options],
            cwd=ROOT, env={**_server_env(), **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


@pytest.fixture(scope="session")
def celery_worker_process(cast, channel_stubs, google_stub, tmp_path_factory):
    """The worker every end-to-end test shares (offline assistant, channel and Google stubs)."""
    log = SERVER_LOGS["celery_worker_process"] = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {"TELEGRAM_API_BASE": channel_stubs["telegram"].url, "WHATSAPP_API_BASE": channel_stubs["whatsapp"].url,
           "LLM_PROVIDER": "offline", **google_stub.settings(), **WORKER_GOOGLE_RETRIES}
    process = worker_start(log, env, "--concurrency", "4", "-n", f"test-{os.getpid()}@%h")
    yield process
    process.terminate()
    process.wait(timeout=20)
