"""What every benchmark shares: its own database (never the development one), timing, printing."""

import os
import secrets
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


def isolated_django(name: str, env: dict[str, str] | None = None) -> str:
    """Start Django on a fresh database `name` with the public schema migrated; its URL.

    `env` holds extra environment defaults (set only where not already set) for the settings.
    Refuses to go on if Django ended up on any other database.
    """
    url = database_url(os.environ["DATABASE_URL"], name)
    recreate_database(url, name)
    os.environ["DATABASE_URL"] = url
    # Production settings: DEBUG off (no query log, no debug cursor) even though devstack turns it on
    # for development; the servers and workers a benchmark starts inherit the same environment.
    os.environ["DJANGO_DEBUG"] = "false"
    for key, value in {"DJANGO_SECRET_KEY": secrets.token_urlsafe(48), "STATIC_MANIFEST": "false",
                       "DJANGO_SETTINGS_MODULE": "crm.settings", "LOG_LEVEL": "WARNING", **(env or {})}.items():
        os.environ.setdefault(key, value)
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
    """The nearest-rank `pct` percentile (0-100) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def summary_ms(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"p50 {statistics.median(ms):7.2f} ms   p95 {percentile(ms, 95):7.2f} ms   p99 {percentile(ms, 99):7.2f} ms"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def log(name: str, message: str) -> None:
    """Progress on stderr, so that the tables on stdout stay together."""
    print(f"[bench/{name}] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A plain fixed-width table; the first column left-aligned, the others right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def fmt(cells: list[str]) -> str:
        padded = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded)

    print(f"\n{title}\n{fmt(header)}\n{'  '.join('-' * width for width in widths)}")
    for cells in rows:
        print(fmt(cells))


def row(label: str, value: str, target: str = "") -> None:
    print(f"  {label:<52} {value:<44} {target}")


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
