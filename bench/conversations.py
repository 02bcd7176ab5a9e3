"""Conversation benchmark: webhook acknowledgement under load, one turn's server work, and
throughput with a slow (1 s) LLM across 100 concurrent conversations. Prints; asserts nothing.

Runs in its own database (crm_bench_conv) with a real uvicorn server and a real Celery worker
(thread pool) as `make run` starts them, a Telegram API stub and an OpenAI stub on 127.0.0.1.
"""

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, Timer, isolated_django, row, summary_ms

DATABASE = "crm_bench_conv"
TG_SECRET = "bench-secret"
ACK_RATE, ACK_SECONDS = 200, 10  # open loop: requests per second, for how long
CLOSED_LOOP_REQUESTS, CLOSED_LOOP_CONCURRENCY = 1000, 10
TURNS = 60
CONVERSATIONS, ROUNDS, LLM_DELAY = 100, 2, 1.0
WORKER_CONCURRENCY = os.environ.get("BENCH_WORKER_CONCURRENCY", "64")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


def rss_mb(process: subprocess.Popen) -> float:
    import psutil

    parent = psutil.Process(process.pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)]) / 2**20


def wait_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


def update(update_id: int, chat_id: int, text: str) -> bytes:
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id, "from": {"id": chat_id, "first_name": "Lead"}, "chat": {"id": chat_id,
                                                                                        "type": "private"},
        "date": 1795860000, "text": text}}).encode()


# --- 1. acknowledgements ------------------------------------------------------------------------


async def open_loop(url: str, host: str, bodies: list[bytes | None], rate: int) -> list[float]:
    """Send at a fixed rate regardless of answers (as Meta and Telegram do); latency of each."""
    import httpx2 as httpx

    latencies: list[float] = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers={
            "Host": host, "X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"}) as client:
        async def one(body: bytes | None) -> None:
            started = time.perf_counter()
            response = await (client.post(url, content=body) if body else client.get(url))
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)

        t0, tasks = time.perf_counter(), []
        for index, body in enumerate(bodies):
            await asyncio.sleep(max(0.0, t0 + index / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(body)))
        await asyncio.gather(*tasks)
    return latencies


async def closed_loop(url: str, host: str, bodies: list[bytes], concurrency: int) -> float:
    """Requests per second with `concurrency` clients sending back to back."""
    import httpx2 as httpx

    queue = list(bodies)
    async with httpx.AsyncClient(timeout=30, headers={
            "Host": host, "X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"}) as client:
        async def worker() -> None:
            while queue:
                (await client.post(url, content=queue.pop())).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - started)


def bench_acks(base: str, slug: str) -> None:
    print("\n1. Webhook acknowledgement (Telegram webhook stores the message, then answers 200)")
    count = ACK_RATE * ACK_SECONDS
    webhook = f"{base}/webhooks/telegram/{slug}/"
    bare = asyncio.run(open_loop(f"{base}/healthz", "localhost", [None] * count, ACK_RATE))
    acks = asyncio.run(open_loop(webhook, "localhost", [update(100_000 + i, 10_000 + i % 500, "hola")
                                                        for i in range(count)], ACK_RATE))
    row(f"bare Django endpoint (/healthz) at {ACK_RATE} req/s", summary_ms(bare))
    row(f"webhook ack at {ACK_RATE} req/s", summary_ms(acks), "target: p99 < 50 ms")
    row("ratio webhook / bare (p50)", f"{statistics.median(acks) / statistics.median(bare):.1f}×")
    rps = asyncio.run(closed_loop(webhook, "localhost", [update(500_000 + i, 20_000 + i, "hola")
                                                         for i in range(CLOSED_LOOP_REQUESTS)],
                                  CLOSED_LOOP_CONCURRENCY))
    row(f"webhook acks/s, {CLOSED_LOOP_CONCURRENCY} concurrent clients", f"{rps:,.0f} req/s",
        "the replaced system: ~1,000 req/s, nothing stored")


# --- 2. one turn --------------------------------------------------------------------------------


def bench_turn(broker) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from brokers.models import LLMCall
    from conversations import orchestrator, services
    from conversations.channels.base import InboundMessage

    print("\n2. One conversation turn, instant LLM stub (server work: turn time minus the LLM call)")
    work, queries = [], []
    with broker:
        for index in range(TURNS):
            inbound = InboundMessage(external_id=f"turn-{index}", channel_user_id=str(90_000 + index % 10),
                                     text="me llamo Ana y busco depto en Ñuñoa de 3.500 UF")
            message = services.message_receive(channel="telegram", inbound=inbound)
            with CaptureQueriesContext(connection) as captured, Timer() as timer:
                orchestrator.run_turn(message_id=message.id)
            llm_ms = LLMCall.objects.filter(broker=broker).latest("id").latency_ms
            work.append(timer.seconds - llm_ms / 1000)
            queries.append(len(captured))
    row("server work per turn", summary_ms(work[5:]), "target: median < 30 ms")
    row("SQL statements per turn (median, max)", f"{statistics.median(queries):.0f}, {max(queries)}",
        "target: ≤ 25")


# --- 3. slow LLM throughput -----------------------------------------------------------------------


def bench_throughput(base: str, slug: str, telegram_stub, worker_env: dict, log_dir: Path) -> None:
    import httpx2 as httpx

    print(f"\n3. Throughput: {CONVERSATIONS} concurrent conversations, {LLM_DELAY:.0f} s LLM, worker "
          f"--pool threads --concurrency {WORKER_CONCURRENCY}")
    worker = start([str(Path(sys.executable).parent / "celery"), "-A", "crm", "worker", "-l", "warning",
                    "--pool", "threads", "--concurrency", WORKER_CONCURRENCY, "--without-mingle",
                    "--without-gossip", "-n", "bench@%h"], worker_env, log_dir / "worker.log")
    time.sleep(6)
    try:
        sent_before = len(telegram_stub.sent_texts())
        total = CONVERSATIONS * ROUNDS
        started = time.perf_counter()
        with httpx.Client(timeout=30, headers={"Host": "localhost", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                                               "Content-Type": "application/json"}) as client:
            for round_ in range(ROUNDS):
                for chat in range(CONVERSATIONS):
                    body = update(900_000 + round_ * CONVERSATIONS + chat, 70_000 + chat, "busco casa en Maipú")
                    client.post(f"{base}/webhooks/telegram/{slug}/", content=body).raise_for_status()
        deadline = time.monotonic() + 300
        while len(telegram_stub.sent_texts()) - sent_before < total and time.monotonic() < deadline:
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        done = len(telegram_stub.sent_texts()) - sent_before
        row("turns completed", f"{done} of {total} in {elapsed:.1f} s")
        row("turns per second", f"{done / elapsed:.1f} turns/s", "target: ≥ 50; replaced system: 1.5")
        row("worker memory (RSS, all processes)", f"{rss_mb(worker):.0f} MB", "target: ≤ 250 MB")
    finally:
        stop(worker)


def main() -> None:
    url = isolated_django(DATABASE)
    from django.conf import settings

    from brokers import services
    from brokers.models import BrokerChatConfig
    from conversations.tests.channel_stubs import TelegramStub
    from crm.tests.stubs import OpenAIStub, Reply

    broker = services.broker_register(name="Corredora Bench", slug="benchconv", admin_email="admin@benchconv.cl",
                                      admin_name="Admin", password="clave-segura-2026")
    chat = BrokerChatConfig.objects.get(broker=broker)
    chat.telegram_bot_token, chat.telegram_secret_token = "1:bench", TG_SECRET
    chat.save()
    log_dir = ROOT / ".data" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    with TelegramStub() as telegram_stub, OpenAIStub() as openai_stub:
        settings.TELEGRAM_API_BASE = telegram_stub.url
        settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-bench"
        settings.OPENAI_BASE_URL = openai_stub.base_url
        env = {**os.environ, "DATABASE_URL": url, "TELEGRAM_API_BASE": telegram_stub.url, "LLM_PROVIDER": "openai",
               "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": openai_stub.base_url, "LOG_LEVEL": "WARNING"}
        port = free_port()
        web = start([str(Path(sys.executable).parent / "uvicorn"), "crm.asgi:application", "--port", str(port),
                     "--no-access-log", "--lifespan", "off", "--log-level", "warning"], env, log_dir / "web.log")
        wait_port(port)
        base = f"http://127.0.0.1:{port}"
        print(f"Conversation benchmark ({os.cpu_count()} cores), database {DATABASE}")
        try:
            bench_acks(base, broker.slug)
            row("web server memory (RSS)", f"{rss_mb(web):.0f} MB", "target: ≤ 200 MB")
            from crm.celery import app

            app.control.purge()  # the ack phase queued thousands of turns nobody needs
            bench_turn(broker)
            openai_stub.reply = Reply(text="¡Perfecto! ¿En qué comuna buscas?", delay=LLM_DELAY)
            bench_throughput(base, broker.slug, telegram_stub, env, log_dir)
        finally:
            stop(web)


if __name__ == "__main__":
    main()
