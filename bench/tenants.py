"""Tenancy benchmark: onboarding a brokerage, and the cost of routing a request to its schema.

Run with `make bench`. It works in its own database (`crm_bench`, dropped and re-created at
start), never in the development database named by DATABASE_URL. It prints numbers and
asserts nothing.

1. Onboarding: seconds for `services.broker_register` (schema + tenant migrations, Domain,
   settings rows, first ADMIN) with 50 and with 200 brokerages already present, and three
   prototypes of a faster schema step, each measured through the same broker_register call:
     A. django-tenants' template clone (TENANT_BASE_SCHEMA + TENANT_CREATION_FAKES_MIGRATIONS);
     B. a pool of spare schemas migrated ahead of time, one renamed at sign-up;
     C. the tenant migrations compiled once to SQL and replayed into the new schema.
   B and C create the schema just before broker_register, which then finds it there and
   skips its own migration run (create_schema(check_if_exists=True)).
2. Routing: the full Django stack (django.test.Client) on `/healthz`, a brokerage host
   against the platform host, per-request median and p95, and SQL statements per request;
   plus the tenant middleware timed alone, as it is and (prototype D) with its host -> tenant
   lookup memoized in process memory.
"""

import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "crm_bench"
SIZES = (50, 200)
ONBOARDINGS = 5  # per size and per prototype; the median run is reported
REQUESTS = 2000  # per host
WARMUP_REQUESTS = 200
TEMPLATE_SCHEMA = "bench_template"
PASSWORD = "clave-segura-2026"
TARGET_ONBOARDING_S = 1.0
TARGET_ROUTING_MS = 1.0


# --- database ---------------------------------------------------------------------------


def bench_database_url(url: str) -> str:
    """DATABASE_URL with its database name replaced by BENCH_DATABASE."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DATABASE}"))


def recreate_database(url: str) -> None:
    """Drop and create BENCH_DATABASE, connected to the server's `postgres` maintenance database."""
    import psycopg
    from psycopg import sql

    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        name = sql.Identifier(BENCH_DATABASE)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def setup_django() -> float:
    """Point Django at a fresh bench database, start it, migrate the public schema; return seconds."""
    started = time.perf_counter()
    url = bench_database_url(os.environ["DATABASE_URL"])
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.settings_dict["NAME"] != BENCH_DATABASE:  # never run against the development database
        raise RuntimeError(f"expected database {BENCH_DATABASE}, got {connection.settings_dict['NAME']}")
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    return time.perf_counter() - started


def create_platform() -> None:
    """The public tenant and its host (`localhost`), as seed_demo makes them."""
    from django.conf import settings

    from brokers.models import Broker, Domain

    public = Broker.objects.create(schema_name="public", name="Plataforma", slug="platform")
    Domain.objects.create(domain=settings.BASE_DOMAIN, tenant=public, is_primary=True)


def brokerage_count() -> int:
    from brokers.models import Broker

    return Broker.objects.exclude(schema_name="public").count()


# --- ways to make a tenant schema ---------------------------------------------------------


def migrate_new_schema(schema: str) -> None:
    """CREATE SCHEMA and run the tenant migrations in it, as django-tenants does for a new tenant."""
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import quote_schema_name

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema)}")
    call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def compile_tenant_sql() -> str:
    """The whole tenant migration plan as one SQL script, unqualified (it lands in the search_path schema).

    Django's own collect_sql (what `sqlmigrate` prints); the router keeps only tenant apps because
    the connection is on a tenant schema. The bookkeeping a real run leaves behind is copied from
    TEMPLATE_SCHEMA: the django_migrations rows and the content types. RunPython operations would
    be missing from the script (there are none in the tenant apps today).
    """
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django_tenants.utils import quote_schema_name

    connection.set_schema(TEMPLATE_SCHEMA)
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    statements = executor.loader.collect_sql(plan)
    connection.set_schema_to_public()
    template = quote_schema_name(TEMPLATE_SCHEMA)
    statements += [
        f"CREATE TABLE django_migrations (LIKE {template}.django_migrations INCLUDING ALL);",
        f"INSERT INTO django_migrations (app, name, applied) SELECT app, name, applied "
        f"FROM {template}.django_migrations ORDER BY id;",
        f"INSERT INTO django_content_type (app_label, model) SELECT app_label, model "
        f"FROM {template}.django_content_type ORDER BY id;",
    ]
    return "\n".join(statements)


def replay_schema(schema: str, script: str) -> None:
    """CREATE SCHEMA and run the compiled tenant script in it, in one round trip."""
    from django.db import connection
    from django_tenants.utils import quote_schema_name

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema)}")
    connection.set_schema(schema)  # django-tenants issues SET search_path = <schema>, public
    with connection.cursor() as cursor:
        cursor.execute(script)
    connection.set_schema_to_public()


# --- background brokerages ---------------------------------------------------------------


def add_background_brokerages(total: int, script: str) -> tuple[int, float]:
    """Bring the brokerages up to `total` as fast as possible; return (how many were added, seconds).

    Each schema comes from the compiled tenant script (one transaction per schema), and the
    platform rows (Broker, Domain, the four settings rows, the ADMIN with a password hashed
    once) are bulk-inserted, so no per-brokerage migration run or password hash is paid.
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
    from brokers.services import schema_name_for

    started = time.perf_counter()
    slugs = [f"bg-{number:04d}" for number in range(brokerage_count(), total)]
    for slug in slugs:
        with transaction.atomic():
            replay_schema(schema_name_for(slug), script)
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


def onboard(prepare_schema: Callable[[str], None] | None = None) -> dict[str, float]:
    """One broker_register() for a fresh slug; seconds in total and per stage.

    Stages: `schema` = prepare_schema (if given) + Broker.create_schema, `password` =
    User.set_password, `other` = the rest. Both methods are wrapped with a timer for the call
    and restored afterwards; what they do is unchanged. prepare_schema runs in the same
    transaction as broker_register, as it would in production.
    """
    global _onboarded
    from django.db import transaction

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

    originals = Broker.create_schema, User.set_password
    Broker.create_schema = timed("schema", Broker.create_schema)
    User.set_password = timed("password", User.set_password)
    try:
        started = time.perf_counter()
        with transaction.atomic():
            if prepare_schema:
                timed("schema", prepare_schema)(services.schema_name_for(slug))
            services.broker_register(name=f"Corredora {slug}", slug=slug, admin_email=f"admin@{slug}.cl",
                                     admin_name="Admin", password=PASSWORD)
        total = time.perf_counter() - started
    finally:
        Broker.create_schema, User.set_password = originals
    return {"total": total, **spent, "other": total - sum(spent.values())}


def onboard_many(prepare_schema: Callable[[str], None] | None = None) -> dict[str, float]:
    """ONBOARDINGS onboardings; the run with the median total (so its stages add up)."""
    runs = sorted((onboard(prepare_schema) for _ in range(ONBOARDINGS)), key=lambda run: run["total"])
    return runs[len(runs) // 2]


def onboard_with_template_clone() -> dict[str, float]:
    """Prototype A: django-tenants' template path (clone TEMPLATE_SCHEMA, then migrate_schemas --fake)."""
    from django.test import override_settings

    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=True, TENANT_BASE_SCHEMA=TEMPLATE_SCHEMA):
        return onboard_many()


def onboard_with_spare_schema() -> dict[str, float]:
    """Prototype B: spare schemas migrated ahead of time (not timed); sign-up renames one."""
    from django.db import connection
    from django_tenants.utils import quote_schema_name

    spares = [f"spare_{index}" for index in range(ONBOARDINGS)]
    for spare in spares:
        migrate_new_schema(spare)

    def take_spare(schema: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER SCHEMA {quote_schema_name(spares.pop())} RENAME TO {quote_schema_name(schema)}")

    return onboard_many(take_spare)


def onboard_with_compiled_sql(script: str) -> dict[str, float]:
    """Prototype C: replay the tenant migrations compiled once to SQL (see compile_tenant_sql)."""
    return onboard_many(lambda schema: replay_schema(schema, script))


# --- routing -------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure_routing(hosts: dict[str, str]) -> dict[str, dict]:
    """REQUESTS GETs of /healthz per host through the full stack, interleaved so drift hits all alike.

    Returns per label: request times (ms), the SQL statements of one request, and the times (ms)
    of the tenant middleware alone (host -> Domain row -> schema), called directly: as it is, and
    with its host -> tenant lookup memoized in process memory (prototype D, no invalidation).
    """
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from brokers.middleware import CachedTenantMiddleware

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

    middleware = CachedTenantMiddleware(get_response=lambda request: None)
    memoized = CachedTenantMiddleware(get_response=lambda request: None)
    memoized.get_tenant = functools.cache(memoized.get_tenant)
    factory = RequestFactory()

    def middleware_times(instance, host: str) -> list[float]:
        elapsed = []
        for _ in range(REQUESTS):
            request = factory.get("/healthz", HTTP_HOST=host)
            started = time.perf_counter()
            instance.process_request(request)
            elapsed.append((time.perf_counter() - started) * 1000)
        connection.set_schema_to_public()
        return elapsed

    results = {}
    for label, host in hosts.items():
        with CaptureQueriesContext(connection) as queries:
            client.get("/healthz", HTTP_HOST=host)
        results[label] = {"times": times[label], "sql": [q["sql"] for q in queries.captured_queries],
                          "middleware": middleware_times(middleware, host),
                          "memoized": middleware_times(memoized, host)}
    return results


# --- report --------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return "ok" if value < target else "MISSED"


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A plain fixed-width table; the first column left-aligned, the others right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def fmt(cells: list[str]) -> str:
        padded = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded)

    print(f"\n{title}\n{fmt(header)}\n{'  '.join('-' * width for width in widths)}")
    for row in rows:
        print(fmt(row))


def onboarding_row(label: str, run: dict[str, float]) -> list[str]:
    return [label, f"{run['total']:.3f}", f"{run['schema']:.3f}", f"{run['password']:.3f}", f"{run['other']:.3f}",
            f"< {TARGET_ONBOARDING_S:g} s: {verdict(run['total'], TARGET_ONBOARDING_S)}"]


def routing_rows(size: int, results: dict[str, dict]) -> list[list[str]]:
    rows = [
        [f"{size} brokerages, {label}", f"{statistics.median(r['times']):.3f}", f"{percentile(r['times'], 0.95):.3f}",
         f"{statistics.median(r['middleware']):.3f}", f"{statistics.median(r['memoized']):.3f}", str(len(r["sql"])), ""]
        for label, r in results.items()
    ]
    brokerage, platform = results["brokerage host"], results["platform host"]
    median_gap = statistics.median(brokerage["times"]) - statistics.median(platform["times"])
    p95_gap = percentile(brokerage["times"], 0.95) - percentile(platform["times"], 0.95)
    rows.append([f"{size} brokerages, overhead (brokerage - platform)", f"{median_gap:+.3f}", f"{p95_gap:+.3f}",
                 "", "", "", f"< {TARGET_ROUTING_MS:g} ms: {verdict(median_gap, TARGET_ROUTING_MS)}"])
    return rows


def main() -> None:
    """Set up the bench database, measure onboarding and routing at each size, print the tables."""
    started, load_at_start = time.perf_counter(), os.getloadavg()[0]
    setup_seconds = setup_django()
    from django.conf import settings
    from django.contrib.auth.hashers import get_hasher

    create_platform()
    clock = time.perf_counter()
    migrate_new_schema(TEMPLATE_SCHEMA)
    template_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    script = compile_tenant_sql()
    compile_seconds = time.perf_counter() - clock

    setup_rows, onboarding_rows, routing_table, statements = [], [], [], {}
    for size in SIZES:
        added, seconds = add_background_brokerages(size, script)
        setup_rows.append([f"up to {size}", str(added), f"{seconds:.2f}", f"{1000 * seconds / max(added, 1):.1f}"])
        onboarding_rows.append(onboarding_row(f"{brokerage_count()} present, broker_register() today",
                                              onboard_many()))
        hosts = {"brokerage host": f"bg-0000.{settings.BASE_DOMAIN}", "platform host": settings.BASE_DOMAIN}
        results = measure_routing(hosts)
        routing_table += routing_rows(size, results)
        statements = {label: result["sql"] for label, result in results.items()}
    onboarding_rows.append(onboarding_row(f"{brokerage_count()} present, A: clone template schema",
                                          onboard_with_template_clone()))
    onboarding_rows.append(onboarding_row(f"{brokerage_count()} present, B: rename a spare schema",
                                          onboard_with_spare_schema()))
    onboarding_rows.append(onboarding_row(f"{brokerage_count()} present, C: replay compiled SQL",
                                          onboard_with_compiled_sql(script)))

    hasher = get_hasher()
    print(f"\nCorredora CRM tenancy benchmark — database {BENCH_DATABASE}, {os.cpu_count()} CPUs, "
          f"DEBUG={settings.DEBUG}, password hasher {hasher.algorithm} ({hasher.iterations} iterations), "
          f"load average at start {load_at_start:.1f}, at end {os.getloadavg()[0]:.1f}")
    print(f"Fresh database + migrate_schemas --shared: {setup_seconds:.2f} s")
    print(f"One tenant schema by CREATE SCHEMA + migrate_schemas: {template_seconds:.2f} s")
    print(f"Tenant migrations compiled to SQL once: {compile_seconds:.2f} s, {len(script.splitlines())} lines")
    print_table("Background brokerages (compiled-SQL schema each + bulk-inserted rows)",
                ["step", "added", "seconds", "ms each"], setup_rows)
    print_table(f"Onboarding one brokerage, median of {ONBOARDINGS} runs (seconds)",
                ["case", "total", "schema", "password", "other", "target"], onboarding_rows)
    print("  schema: making the schema (migrate_schemas today, or the prototype's step); password: User.set_password;\n"
          "  other: the rest of broker_register (checks, Broker/Domain/settings/User rows, commit)")
    print_table(f"GET /healthz through the full Django stack, {REQUESTS} requests per host (ms per request)",
                ["case", "median", "p95", "tenant mw", "D: memo mw", "SQL", "target"], routing_table)
    print("  tenant mw: CachedTenantMiddleware.process_request alone (median); D: the same with its host -> tenant\n"
          "  lookup memoized in process memory (prototype); SQL: statements per request (the full stack)")
    for label, sql in statements.items():
        print(f"  {label}: " + " | ".join(sql))
    print(f"\nTotal bench time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
