"""What every benchmark shares: its own database (never the development one), timing, printing."""

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def database_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def recreate_database(url: str, name: str) -> None:
    """Drop and create `name`, connected to the server's `postgres` maintenance database."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def isolated_django(name: str) -> str:
    """Start Django on a fresh database `name` with the public schema migrated; its URL.

    Refuses to go on if Django ended up on any other database.
    """
    url = database_url(os.environ["DATABASE_URL"], name)
    recreate_database(url, name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.settings_dict["NAME"] != name:
        raise RuntimeError(f"expected database {name}, got {connection.settings_dict['NAME']}")
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    from brokers.services import platform_ensure

    platform_ensure()
    return url


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def summary_ms(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"p50 {statistics.median(ms):7.2f} ms   p95 {percentile(ms, 95):7.2f} ms   p99 {percentile(ms, 99):7.2f} ms"


def row(label: str, value: str, target: str = "") -> None:
    print(f"  {label:<52} {value:<44} {target}")


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
