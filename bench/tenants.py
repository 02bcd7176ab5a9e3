"""Tenancy benchmark: onboarding a brokerage, and the cost of routing a request to its schema.

Run with `make bench`. It works in its own database (`crm_bench`, dropped and re-created at
start), never in the development database named by DATABASE_URL. It prints numbers and
asserts nothing. It measures what the product does today:

1. Onboarding: seconds for `services.broker_register` (schema from the compiled tenant SQL in
   brokers/schema.py, Domain, settings rows, first ADMIN) with 50 and with 200 brokerages already
   present, split into schema / password hash / the rest.
2. Routing: the full Django stack (django.test.Client) on `/healthz`, a brokerage host against
   the platform host, per-request median and p95, and SQL statements per request; plus
   TenantByHostMiddleware.process_request alone, with its host memo warm (every request after
   the first) and cold (the memo emptied before each call: what the first request pays).
"""

import os
import statistics
import time

from common import Timer, isolated_django, load_average, percentile, print_table

BENCH_DATABASE = "crm_bench"
SIZES = (50, 200)
ONBOARDINGS = 5  # per size; the median run is reported
REQUESTS = 2000  # per host
WARMUP_REQUESTS = 200
PASSWORD = "clave-segura-2026"
TARGET_ONBOARDING_S = 1.0
TARGET_ROUTING_MS = 1.0


def brokerage_count() -> int:
    from brokers.models import Broker

    return Broker.objects.exclude(schema_name="public").count()


# --- background brokerages ---------------------------------------------------------------


def add_background_brokerages(total: int) -> tuple[int, float]:
    """Bring the brokerages up to `total` as fast as possible; return (how many were added, seconds).

    Each schema comes from the product's compiled tenant SQL (one transaction per schema), and the
    platform rows (Broker, Domain, the four settings rows, the ADMIN with a password hashed once)
    are bulk-inserted, so no per-brokerage password hash is paid.
    """
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from brokers.models import (
        Broker,
        BrokerChatConfig,
        BrokerLeadConfig,
        BrokerPromptConfig,
        BrokerVoiceConfig,
        Domain,
        User,
    )
    from brokers.schema import tenant_schema_create
    from brokers.services import schema_name_for

    started = time.perf_counter()
    slugs = [f"bg-{number:04d}" for number in range(brokerage_count(), total)]
    for slug in slugs:
        with transaction.atomic():
            if not tenant_schema_create(schema_name_for(slug)):
                raise RuntimeError("the tenant plan cannot be compiled to SQL: no fast path to measure")
    password = make_password(PASSWORD)
    with transaction.atomic():
        brokers = Broker.objects.bulk_create(
            Broker(schema_name=schema_name_for(slug), name=f"Corredora {slug}", slug=slug,
                   contact_email=f"admin@{slug}.cl")
            for slug in slugs
        )
        Domain.objects.bulk_create(
            Domain(domain=f"{b.slug}.{settings.BASE_DOMAIN}", tenant=b, is_primary=True) for b in brokers
        )
        for config_model in (BrokerPromptConfig, BrokerLeadConfig, BrokerVoiceConfig, BrokerChatConfig):
            config_model.objects.bulk_create(config_model(broker=b) for b in brokers)
        User.objects.bulk_create(
            User(email=f"admin@{b.slug}.cl", name=f"Admin {b.name}", role=User.Role.ADMIN, broker=b, password=password)
            for b in brokers
        )
    return len(slugs), time.perf_counter() - started


# --- onboarding ----------------------------------------------------------------------------

_onboarded = 0


def onboard() -> dict[str, float]:
    """One broker_register() for a fresh slug; seconds in total and per stage.

    Stages: `schema` = brokers.schema.tenant_schema_create (as broker_register calls it) plus
    Broker.create_schema (which finds the schema there and skips migrating it), `password` =
    User.set_password, `other` = the rest. Each is wrapped with a timer for the call and restored
    afterwards; what they do is unchanged.
    """
    global _onboarded
    from brokers import services
    from brokers.models import Broker, User

    _onboarded += 1
    slug = f"nueva-{_onboarded:03d}"
    spent = {"schema": 0.0, "password": 0.0}

    def timed(stage, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - started

        return wrapper

    originals = services.tenant_schema_create, Broker.create_schema, User.set_password
    services.tenant_schema_create = timed("schema", services.tenant_schema_create)
    Broker.create_schema = timed("schema", Broker.create_schema)
    User.set_password = timed("password", User.set_password)
    try:
        with Timer() as timer:
            services.broker_register(name=f"Corredora {slug}", slug=slug, admin_email=f"admin@{slug}.cl",
                                     admin_name="Admin", password=PASSWORD)
    finally:
        services.tenant_schema_create, Broker.create_schema, User.set_password = originals
    return {"total": timer.seconds, **spent, "other": timer.seconds - sum(spent.values())}


def onboard_many() -> dict[str, float]:
    """ONBOARDINGS onboardings; the run with the median total (so its stages add up)."""
    runs = sorted((onboard() for _ in range(ONBOARDINGS)), key=lambda run: run["total"])
    return runs[len(runs) // 2]


# --- routing -------------------------------------------------------------------------------


def measure_routing(hosts: dict[str, str]) -> dict[str, dict]:
    """REQUESTS GETs of /healthz per host through the full stack, interleaved so drift hits all alike.

    Returns per label: request times (ms), the SQL statements of one request, and the times (ms)
    of TenantByHostMiddleware.process_request alone, with the host memo warm and cold.
    """
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from brokers.middleware import TenantByHostMiddleware, forget_hosts

    client = Client()
    for _ in range(WARMUP_REQUESTS):
        for host in hosts.values():
            client.get("/healthz", HTTP_HOST=host)
    times = {label: [] for label in hosts}
    for _ in range(REQUESTS):
        for label, host in hosts.items():
            started = time.perf_counter()
            response = client.get("/healthz", HTTP_HOST=host)
            times[label].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"/healthz on {host} answered {response.status_code}")

    middleware = TenantByHostMiddleware(get_response=lambda request: None)
    factory = RequestFactory()

    def middleware_times(host: str, *, cold: bool) -> list[float]:
        elapsed = []
        for _ in range(REQUESTS):
            request = factory.get("/healthz", HTTP_HOST=host)
            if cold:
                forget_hosts()
            started = time.perf_counter()
            middleware.process_request(request)
            elapsed.append((time.perf_counter() - started) * 1000)
        connection.set_schema_to_public()
        return elapsed

    sql = {}
    for label, host in hosts.items():  # every host's memo still warm from the timed requests
        with CaptureQueriesContext(connection) as queries:
            client.get("/healthz", HTTP_HOST=host)
        sql[label] = [q["sql"] for q in queries.captured_queries]
    results = {label: {"times": times[label], "sql": sql[label], "warm": middleware_times(host, cold=False),
                       "cold": middleware_times(host, cold=True)}
               for label, host in hosts.items()}
    forget_hosts()
    return results


# --- report --------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return "ok" if value < target else "MISSED"


def onboarding_row(label: str, run: dict[str, float]) -> list[str]:
    return [label, f"{run['total']:.3f}", f"{run['schema']:.3f}", f"{run['password']:.3f}", f"{run['other']:.3f}",
            f"< {TARGET_ONBOARDING_S:g} s: {verdict(run['total'], TARGET_ONBOARDING_S)}"]


def routing_rows(size: int, results: dict[str, dict]) -> list[list[str]]:
    rows = [
        [f"{size} brokerages, {label}", f"{statistics.median(r['times']):.3f}", f"{percentile(r['times'], 95):.3f}",
         f"{statistics.median(r['warm']):.3f}", f"{statistics.median(r['cold']):.3f}", str(len(r["sql"])), ""]
        for label, r in results.items()
    ]
    brokerage, platform = results["brokerage host"], results["platform host"]
    median_gap = statistics.median(brokerage["times"]) - statistics.median(platform["times"])
    p95_gap = percentile(brokerage["times"], 95) - percentile(platform["times"], 95)
    rows.append([f"{size} brokerages, overhead (brokerage - platform)", f"{median_gap:+.3f}", f"{p95_gap:+.3f}",
                 "", "", "", f"< {TARGET_ROUTING_MS:g} ms: {verdict(median_gap, TARGET_ROUTING_MS)}"])
    return rows


def main() -> None:
    """Set up the bench database, measure onboarding and routing at each size, print the tables."""
    started, load_at_start = time.perf_counter(), load_average()
    with Timer() as setup:
        isolated_django(BENCH_DATABASE)
    from django.conf import settings
    from django.contrib.auth.hashers import get_hasher

    from brokers.schema import _compiled_plan

    with Timer() as compiling:
        compiled = _compiled_plan()
    statements = len(compiled[0]) if compiled else 0

    setup_rows, onboarding_rows, routing_table, sql = [], [], [], {}
    for size in SIZES:
        added, seconds = add_background_brokerages(size)
        setup_rows.append([f"up to {size}", str(added), f"{seconds:.2f}", f"{1000 * seconds / max(added, 1):.1f}"])
        present = brokerage_count()
        onboarding_rows.append(onboarding_row(f"{present} present, broker_register()", onboard_many()))
        hosts = {"brokerage host": f"bg-0000.{settings.BASE_DOMAIN}", "platform host": settings.BASE_DOMAIN}
        results = measure_routing(hosts)
        routing_table += routing_rows(size, results)
        sql = {label: result["sql"] for label, result in results.items()}

    hasher = get_hasher()
    print(f"\nCorredora CRM tenancy benchmark — database {BENCH_DATABASE}, {os.cpu_count()} CPUs, "
          f"DEBUG={settings.DEBUG}, password hasher {hasher.algorithm} ({hasher.iterations} iterations), "
          f"load average at start {load_at_start}, at end {load_average()}")
    print(f"Fresh database + migrate_schemas --shared: {setup.seconds:.2f} s")
    print(f"Tenant migrations compiled to SQL (once per process, brokers/schema.py): {compiling.seconds:.2f} s, "
          f"{statements} statements")
    print_table("Background brokerages (compiled-SQL schema each + bulk-inserted rows)",
                ["step", "added", "seconds", "ms each"], setup_rows)
    print_table(f"Onboarding one brokerage, median of {ONBOARDINGS} runs (seconds)",
                ["case", "total", "schema", "password", "other", "target"], onboarding_rows)
    print("  schema: tenant_schema_create (compiled SQL) + Broker.create_schema; password: User.set_password;\n"
          "  other: the rest of broker_register (checks, Broker/Domain/settings/User rows)")
    print_table(f"GET /healthz through the full Django stack, {REQUESTS} requests per host (ms per request)",
                ["case", "median", "p95", "mw warm", "mw cold", "SQL", "target"], routing_table)
    print("  mw warm / cold: TenantByHostMiddleware.process_request alone (median), host memo warm / emptied\n"
          "  before each call; SQL: statements per request (the full stack, memo warm)")
    for label, statements_run in sql.items():
        print(f"  {label}: " + (" | ".join(statements_run) or "(none)"))
    print(f"\nTotal bench time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
