"""Conversation benchmark: webhook acknowledgement under load, one turn's server work, and
throughput with a slow (1 s) LLM across 100 concurrent conversations. Prints; asserts nothing.

Also the latency from a webhook's send to its reply being stored (instant LLM stub, the real worker).

Runs in its own database (crm_bench_conv) with a real uvicorn server and a real Celery worker
(thread pool) as `make run` starts them, a Telegram API stub and an OpenAI stub on 127.0.0.1.
"""

import asyncio
import cProfile
import json
import os
import pstats
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT, Timer, isolated_django, row, summary_ms

DATABASE = "crm_bench_conv"
TG_SECRET = "bench-secret"
ACK_RATE, ACK_SECONDS = 200, 10  # open loop: requests per second, for how long
CLOSED_LOOP_REQUESTS, CLOSED_LOOP_CONCURRENCY = 1000, 10
MAX_IN_FLIGHT = 100  # open loop: requests outstanding at once (connections), at most
REQUEST_TIMEOUT = 10.0  # seconds; a request that takes longer counts as an error
OPEN_LOOP_GRACE = 3  # open loop: stop sending after 3x the planned duration
TURNS = 60
REPLY_RATE, REPLY_MESSAGES = 5, 100  # webhook -> reply stored: sends per second (open loop), how many
WARM_UP_MESSAGES = 5  # answered before the measured ones (the worker's first turns set up its clients)
CONVERSATIONS, LLM_DELAY = 100, 1.0
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "8"))  # messages per conversation in part 4 (its first second weighs less)
WORKER_CONCURRENCY = os.environ.get("BENCH_WORKER_CONCURRENCY", "8")
WORKER_POOL = os.environ.get("BENCH_WORKER_POOL", "threads")
PARTS = os.environ.get("BENCH_PARTS", "1234")  # which parts to run, e.g. BENCH_PARTS=4 while working on one


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group (a worker's warm shutdown waits for its tasks); SIGKILL after `grace` s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
    except ProcessLookupError:
        pass


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


@dataclass
class Load:
    """What one load run saw: latencies of the answered requests and every failure, counted."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)  # "HTTP 503", "ReadTimeout", "not sent" ...
    seconds: float = 0.0
    late_starts: int = 0  # open loop: sends that waited for a free slot (the server was behind)

    @property
    def sent(self) -> int:
        return len(self.latencies) + sum(n for kind, n in self.errors.items() if kind != "not sent")

    def error_text(self) -> str:
        if not self.errors:
            return "0 errors"
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.errors.most_common())
        return f"{sum(self.errors.values())} errors ({kinds})"


def client_options(host: str, in_flight: int) -> dict:
    """One connection per request in flight, no pool timeout (a request waits for its slot, it
    never fails for lack of one), and a per-request timeout that counts as an error."""
    import httpx2 as httpx

    return {"limits": httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight),
            "timeout": httpx.Timeout(REQUEST_TIMEOUT, pool=None),
            "headers": {"Host": host, "X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                        "Content-Type": "application/json"}}


async def send(client, url: str, body: bytes | None, load: Load, started: float) -> None:
    """One request; its latency from `started` if answered 2xx, otherwise one more error of its kind."""
    try:
        response = await (client.post(url, content=body) if body else client.get(url))
    except Exception as error:  # noqa: BLE001 - every failure is a number to report, not a crash
        load.errors[type(error).__name__] += 1
        return
    if response.is_success:
        load.latencies.append(time.perf_counter() - started)
    else:
        load.errors[f"HTTP {response.status_code}"] += 1


async def open_loop(url: str, host: str, bodies: list[bytes | None], rate: int) -> Load:
    """Send at a fixed rate regardless of answers (as Meta and Telegram do); latency of each.

    At most MAX_IN_FLIGHT requests are outstanding. When the server falls that far behind, the
    next send waits for a slot, and its latency still counts from when it was due (no coordinated
    omission: a stalled server shows as long latencies, not as a lower rate). Sends still due
    after OPEN_LOOP_GRACE times the planned duration are not made and count as "not sent".
    """
    import httpx2 as httpx

    load = Load()
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    async with httpx.AsyncClient(**client_options(host, MAX_IN_FLIGHT)) as client:
        async def one(body: bytes | None, due: float) -> None:
            try:
                await send(client, url, body, load, due)
            finally:
                slots.release()

        t0, tasks = time.perf_counter(), []
        give_up = t0 + OPEN_LOOP_GRACE * len(bodies) / rate
        for index, body in enumerate(bodies):
            due = t0 + index / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if slots.locked():
                load.late_starts += 1
            try:
                await asyncio.wait_for(slots.acquire(), timeout=max(0.0, give_up - time.perf_counter()))
            except TimeoutError:
                load.errors["not sent"] += len(bodies) - index
                break
            tasks.append(asyncio.create_task(one(body, due)))
        await asyncio.gather(*tasks)
        load.seconds = time.perf_counter() - t0
    return load


async def closed_loop(url: str, host: str, bodies: list[bytes | None], concurrency: int) -> Load:
    """`concurrency` clients sending back to back; failures are counted, not raised."""
    import httpx2 as httpx

    load, queue = Load(), list(bodies)
    async with httpx.AsyncClient(**client_options(host, concurrency)) as client:
        async def worker() -> None:
            while queue:
                await send(client, url, queue.pop(), load, time.perf_counter())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        load.seconds = time.perf_counter() - started
    return load


def load_row(label: str, load: Load, target: str = "") -> None:
    summary = summary_ms(load.latencies) if load.latencies else "no request answered"
    row(label, summary, target)
    row("  sent, answered 2xx, achieved rate",
        f"{load.sent}, {len(load.latencies)}, {load.sent / load.seconds:.0f} req/s; {load.error_text()}")
    if load.late_starts:
        row("  sends delayed by the in-flight bound", f"{load.late_starts} (limit {MAX_IN_FLIGHT} in flight)")


def bench_acks(base: str, slug: str) -> None:
    print("\n1. Webhook acknowledgement (Telegram webhook stores the message, then answers 200)")
    count = ACK_RATE * ACK_SECONDS
    webhook = f"{base}/webhooks/telegram/{slug}/"
    # One second at the rate first, not measured: the server's first requests open its connections.
    asyncio.run(open_loop(f"{base}/healthz", "localhost", [None] * ACK_RATE, ACK_RATE))
    asyncio.run(open_loop(webhook, "localhost", [update(90_000 + i, 9_000 + i, "hola") for i in range(ACK_RATE)],
                          ACK_RATE))
    bare = asyncio.run(open_loop(f"{base}/healthz", "localhost", [None] * count, ACK_RATE))
    acks = asyncio.run(open_loop(webhook, "localhost", [update(100_000 + i, 10_000 + i % 500, "hola")
                                                        for i in range(count)], ACK_RATE))
    load_row(f"bare Django endpoint (/healthz) at {ACK_RATE} req/s", bare)
    load_row(f"webhook ack at {ACK_RATE} req/s", acks, "target: p99 < 50 ms")
    if bare.latencies and acks.latencies:
        ratio = statistics.median(acks.latencies) / statistics.median(bare.latencies)
        row("ratio webhook / bare (p50)", f"{ratio:.1f}×")
    bare_closed = asyncio.run(closed_loop(f"{base}/healthz", "localhost", [None] * CLOSED_LOOP_REQUESTS,
                                          CLOSED_LOOP_CONCURRENCY))
    closed = asyncio.run(closed_loop(webhook, "localhost", [update(500_000 + i, 20_000 + i, "hola")
                                                            for i in range(CLOSED_LOOP_REQUESTS)],
                                     CLOSED_LOOP_CONCURRENCY))
    row(f"bare /healthz answers/s, {CLOSED_LOOP_CONCURRENCY} concurrent clients",
        f"{len(bare_closed.latencies) / bare_closed.seconds:,.0f} req/s; {bare_closed.error_text()}")
    row(f"webhook acks/s, {CLOSED_LOOP_CONCURRENCY} concurrent clients",
        f"{len(closed.latencies) / closed.seconds:,.0f} req/s answered; {closed.error_text()}",
        "the replaced system: ~1,000 req/s, nothing stored")


# --- 2. one turn --------------------------------------------------------------------------------


def bench_turn(broker) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from brokers.models import LLMCall
    from conversations import orchestrator, services
    from conversations.channels.base import InboundMessage

    print("\n2. One conversation turn, instant LLM stub (server work: turn time minus the LLM call)")

    def received(index: int) -> int:
        inbound = InboundMessage(external_id=f"turn-{index}", channel_user_id=str(90_000 + index % 10),
                                 text="me llamo Ana y busco depto en Ñuñoa de 3.500 UF")
        return services.message_receive(channel="telegram", inbound=inbound).id

    work, queries, calls = [], [], []
    with broker:
        for index in range(TURNS):
            message_id = received(index)
            with CaptureQueriesContext(connection) as captured, Timer() as timer:
                orchestrator.run_turn(message_id=message_id)
            llm_ms = LLMCall.objects.filter(broker=broker).latest("id").latency_ms
            work.append(timer.seconds - llm_ms / 1000)
            queries.append(len(captured))
        for index in range(TURNS, TURNS + 10):  # profiled apart: the profiler slows what it measures
            message_id = received(index)
            profile = cProfile.Profile()
            profile.runcall(orchestrator.run_turn, message_id=message_id)
            calls.append(pstats.Stats(profile).total_calls)
    row("server work per turn", summary_ms(work[5:]), "target: median < 30 ms")
    row("SQL statements per turn (median, max)", f"{statistics.median(queries):.0f}, {max(queries)}",
        "target: ≤ 25")
    row("Python function calls per turn (median)", f"{statistics.median(calls):,.0f}",
        "a count: the machine's load does not move it")


# --- 3. webhook -> reply stored -----------------------------------------------------------------


def start_worker(worker_env: dict, log_dir: Path) -> subprocess.Popen:
    from crm.celery import app

    app.control.purge()  # nothing left over from the parts before
    worker = start([str(Path(sys.executable).parent / "celery"), "-A", "crm", "worker", "-l", "warning",
                    "--pool", WORKER_POOL, "--concurrency", WORKER_CONCURRENCY, "--without-mingle",
                    "--without-gossip", "-n", "bench@%h"], worker_env, log_dir / "worker.log")
    deadline = time.monotonic() + 120  # a loaded machine can take far longer than a few seconds
    while not app.control.ping(timeout=1.0) and time.monotonic() < deadline:
        time.sleep(0.5)
    return worker


def bench_reply_latency(base: str, broker) -> None:
    """Open loop at REPLY_RATE: from just before each webhook POST to its reply's row being stored
    (the reply's created_at, written by the worker on this machine's clock)."""
    import httpx2 as httpx

    from conversations.models import Message

    print(f"\n3. Webhook -> reply stored, instant LLM stub, {REPLY_MESSAGES} messages at {REPLY_RATE}/s "
          f"(new chats), worker --pool {WORKER_POOL} --concurrency {WORKER_CONCURRENCY}")
    def replies_stored(external_ids) -> dict[str, float]:
        with broker:
            return {external_id: created.timestamp() for external_id, created in
                    Message.objects.filter(direction=Message.Direction.OUT, reply_to__external_id__in=external_ids)
                    .values_list("reply_to__external_id", "created_at")}

    def wait_for_replies(external_ids) -> dict[str, float]:
        stored, deadline = {}, time.monotonic() + 60
        while len(stored) < len(external_ids) and time.monotonic() < deadline:
            stored = replies_stored(external_ids)
            time.sleep(0.2)
        return stored

    sent_at: dict[str, float] = {}
    with httpx.Client(**client_options("localhost", 1)) as client:
        warm_up = [str(2_900_000 + index) for index in range(WARM_UP_MESSAGES)]  # first use of every client
        for external_id in warm_up:
            client.post(f"{base}/webhooks/telegram/{broker.slug}/", content=update(int(external_id), 59_000,
                                                                                   "busco depto en Ñuñoa"))
        wait_for_replies(warm_up)
        t0 = time.perf_counter()
        for index in range(REPLY_MESSAGES):
            time.sleep(max(0.0, t0 + index / REPLY_RATE - time.perf_counter()))
            update_id = 3_000_000 + index
            sent_at[str(update_id)] = time.time()
            client.post(f"{base}/webhooks/telegram/{broker.slug}/", content=update(update_id, 60_000 + index,
                                                                                   "busco depto en Ñuñoa"))
    stored = wait_for_replies(sent_at)
    latencies = [stored[key] - sent_at[key] for key in stored]
    row("webhook -> reply stored", summary_ms(latencies) if latencies else "no reply stored",
        "target: p95 < 100 ms")
    row("  replies stored", f"{len(stored)} of {len(sent_at)}")


# --- 4. slow LLM throughput -----------------------------------------------------------------------


def cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU time of a process and its children so far."""
    import psutil

    parent = psutil.Process(process.pid)
    return sum(sum(p.cpu_times()[:2]) for p in [parent, *parent.children(recursive=True)])


def post_or_count(client, url: str, body: bytes, failed: Counter) -> None:
    """POST one webhook; a refusal or failure is counted (it never becomes a turn)."""
    try:
        response = client.post(url, content=body)
    except Exception as error:  # noqa: BLE001 - counted and reported
        failed[type(error).__name__] += 1
        return
    if not response.is_success:
        failed[f"HTTP {response.status_code}"] += 1


def throughput_run(label: str, telegram_stub, processes: dict, first_chat: int, drive) -> None:
    """Run `drive(chats, failed)` (it posts the messages and returns how many were never posted or
    refused) over CONVERSATIONS new chats from `first_chat`, counting the replies the Telegram stub
    receives for them; print the rate, a per-second timeline, who wrote the replies, CPU per turn."""
    import threading

    chats = range(first_chat, first_chat + CONVERSATIONS)

    counted = {"seen": len(telegram_stub.requests), "replies": 0}  # only requests made from here on

    def replies() -> int:  # counts the stub's new requests since the last call (polled every 50 ms)
        new = telegram_stub.requests[counted["seen"]:]
        counted["seen"] += len(new)
        counted["replies"] += sum(1 for r in new if r["path"].endswith("/sendMessage")
                                  and int(r["json"]["chat_id"]) in chats)
        return counted["replies"]

    from django.utils import timezone

    from brokers.models import LLMCall

    cpu_before = {name: cpu_seconds(process) for name, process in processes.items()}
    failed: Counter = Counter()
    since, started = timezone.now(), time.perf_counter()
    unposted: list[int] = []
    driver = threading.Thread(target=lambda: unposted.append(drive(chats, failed)))
    driver.start()
    deadline, timeline = time.monotonic() + 300, []  # (seconds since the first post, replies so far)
    while time.monotonic() < deadline:
        done = replies()
        timeline.append((time.perf_counter() - started, done))
        if unposted and done >= CONVERSATIONS * ROUNDS - unposted[0]:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    driver.join()
    total = CONVERSATIONS * ROUNDS - unposted[0]
    print(f"  {label}")
    row("  webhook posts refused or failed", f"{sum(failed.values())} " + str(dict(failed)) if failed else "0")
    row("  turns completed", f"{done} of {total} in {elapsed:.1f} s")
    seconds = sorted({int(at) for at, _ in timeline})
    row("  replies by the end of each second", " ".join(
        str(max(n for at, n in timeline if int(at) == second)) for second in seconds))
    row("  turns per second", f"{done / elapsed:.1f} turns/s", "target: ≥ 50; replaced system: 1.5")
    answered = Counter(LLMCall.objects.filter(created_at__gte=since, call_type="chat", error="")
                       .values_list("provider", flat=True))
    row("  replies written by", ", ".join(f"{provider} {n}" for provider, n in answered.most_common()),
        "all by the 1 s stub (openai), or the run measured a fallback")
    for name, process in processes.items():
        spent = cpu_seconds(process) - cpu_before[name]
        row(f"    {name} CPU per turn", f"{1000 * spent / max(done, 1):.1f} ms ({spent:.1f} s in all)")


def bench_throughput(base: str, slug: str, telegram_stub, worker: subprocess.Popen, web: subprocess.Popen) -> None:
    """Two ways 100 leads write, ROUNDS messages each. (a) As people chat: each lead writes again once
    answered, so 100 conversations are in flight at any time. (b) In bursts: every lead sends all
    its messages at once, and the turns of one lead wait for each other (one turn per lead at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx2 as httpx

    print(f"\n4. Throughput: {CONVERSATIONS} concurrent conversations, {ROUNDS} messages each, "
          f"{LLM_DELAY:.0f} s LLM, worker --pool {WORKER_POOL} --concurrency {WORKER_CONCURRENCY}")
    from crm.celery import app

    app.control.purge()  # nothing left over from the parts before
    url, processes = f"{base}/webhooks/telegram/{slug}/", {"worker": worker, "web server": web}
    posters = 8

    def message(chat: int, round_: int) -> bytes:
        return update(900_000 + chat * ROUNDS + round_, chat, "busco casa en Maipú")

    def as_people_chat(chats: range, failed: Counter) -> int:
        """Post each chat's next message as soon as the stub got the reply to its last one."""
        with httpx.Client(**client_options("localhost", posters)) as client, ThreadPoolExecutor(posters) as pool:
            sent, seen, answered = dict.fromkeys(chats, 1), 0, Counter()
            for chat in chats:
                pool.submit(post_or_count, client, url, message(chat, 0), failed)
            deadline = time.monotonic() + 300
            # A chat whose post failed gets no reply: it stops there (its later messages count as unposted).
            while (sum(sent.values()) - sum(failed.values()) > sum(answered.values())
                   and time.monotonic() < deadline):
                requests = telegram_stub.requests[seen:]
                seen += len(requests)
                for request in requests:
                    chat = int(request["json"].get("chat_id", 0)) if request["path"].endswith("/sendMessage") else 0
                    if chat in sent:
                        answered[chat] += 1
                        if sent[chat] < ROUNDS:
                            pool.submit(post_or_count, client, url, message(chat, sent[chat]), failed)
                            sent[chat] += 1
                time.sleep(0.01)
            return sum(failed.values()) + sum(ROUNDS - n for n in sent.values())

    def in_bursts(chats: range, failed: Counter) -> int:
        with httpx.Client(**client_options("localhost", 1)) as client:
            for round_ in range(ROUNDS):
                for chat in chats:
                    post_or_count(client, url, message(chat, round_), failed)
        return sum(failed.values())

    throughput_run("a. each lead writes again once answered (target)", telegram_stub, processes, 70_000,
                   as_people_chat)
    throughput_run("b. each lead sends its messages at once", telegram_stub, processes, 80_000, in_bursts)
    row("worker memory (RSS, all processes)", f"{rss_mb(worker):.0f} MB", "target: ≤ 250 MB")


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
            if "1" in PARTS:
                bench_acks(base, broker.slug)
                row("web server memory (RSS)", f"{rss_mb(web):.0f} MB", "target: ≤ 200 MB")
            from crm.celery import app

            app.control.purge()  # the ack phase queued thousands of turns nobody needs
            if "2" in PARTS:
                bench_turn(broker)
            worker = start_worker(env, log_dir)
            try:
                if "3" in PARTS:
                    bench_reply_latency(base, broker)
                openai_stub.reply = Reply(text="¡Perfecto! ¿En qué comuna buscas?", delay=LLM_DELAY)
                if "4" in PARTS:
                    bench_throughput(base, broker.slug, telegram_stub, worker, web)
            finally:
                stop(worker)
        finally:
            stop(web)


if __name__ == "__main__":
    main()
