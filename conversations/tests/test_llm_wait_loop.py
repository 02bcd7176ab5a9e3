"""A real worker whose turns' LLM calls wait on its event loop (crm.llm.waiting), with one task thread:
the thread takes the next turn while the first one's call is in flight, and a failed call still
falls back and answers, on the continuation thread."""

import os
import threading
import time

import pytest

from brokers.models import BrokerChatConfig, LLMCall
from conftest import SERVER_LOGS, committed_brokerage, worker_start
from conversations import tasks
from conversations.models import InboundEvent, Message
from conversations.tests.channel_stubs import telegram_update
from crm.tests.stubs import OpenAIStub, Reply
from leads.models import Lead

pytestmark = pytest.mark.worker

QUEUE = f"llm-wait-loop-{os.getpid()}"  # its own queue: the shared test worker never takes these turns
STUB_TEXT = "¡Perfecto! ¿En qué comuna buscas?"


@pytest.fixture(scope="module")
def openai_stub():
    with OpenAIStub() as stub:
        yield stub


def telegram_brokerage(prefix: str, bot_token: str):
    broker = committed_brokerage(prefix, f"Corredora {prefix}")
    config = BrokerChatConfig.objects.get(broker=broker)
    config.telegram_bot_token, config.telegram_secret_token = bot_token, f"{prefix}-secret"
    config.save()
    return broker


@pytest.fixture(scope="module")
def loop_broker(cast, django_db_blocker):
    with django_db_blocker.unblock():
        return telegram_brokerage("loop", "777:loop-token")


@pytest.fixture(scope="module")
def other_broker(cast, django_db_blocker):
    with django_db_blocker.unblock():
        return telegram_brokerage("otra", "778:otra-token")


@pytest.fixture(scope="module")
def loop_worker(cast, channel_stubs, openai_stub, tmp_path_factory):
    """One task thread, the OpenAI provider on the stub."""
    log = SERVER_LOGS["loop_worker"] = tmp_path_factory.mktemp("loop-worker") / "worker.log"
    env = {"TELEGRAM_API_BASE": channel_stubs["telegram"].url, "LLM_PROVIDER": "openai",
           "OPENAI_API_KEY": "sk-loop-test", "OPENAI_BASE_URL": openai_stub.base_url,
           "LLM_FALLBACK_PROVIDER": "", "LLM_WAIT_LOOP": "true"}
    process = worker_start(log, env, "--concurrency", "1", "-Q", QUEUE, "-n", f"loop-{os.getpid()}@%h")
    yield process
    process.terminate()
    process.wait(timeout=30)


def deliver(broker, update_id: int, chat_id: int, text: str) -> None:
    """A stored Telegram delivery, queued for the loop worker."""
    with broker:
        event = InboundEvent.objects.create(channel="telegram", external_id=str(update_id),
                                            payload=telegram_update(update_id, text, chat_id=chat_id))
        tasks.process_event.apply_async((event.id,), queue=QUEUE)


def sent_to(channel_stubs, chat_ids: set[str], seconds: float = 30) -> dict[str, dict]:
    """The sendMessage request that answered each chat: {chat id: request}."""
    telegram, deadline = channel_stubs["telegram"], time.monotonic() + seconds
    while time.monotonic() < deadline:
        sent = {r["json"]["chat_id"]: r for r in telegram.requests
                if r["path"].endswith("/sendMessage") and r["json"]["chat_id"] in chat_ids}
        if len(sent) == len(chat_ids):
            return sent
        time.sleep(0.1)
    raise AssertionError(f"replies sent: {sent}")


def replies_to(channel_stubs, chat_ids: set[str]) -> dict[str, str]:
    return {chat: request["json"]["text"] for chat, request in sent_to(channel_stubs, chat_ids).items()}


@pytest.fixture
def calls_overlap(openai_stub):
    """The stub answers only once two requests wait at the same time (otherwise with an error)."""
    both_in_flight = threading.Barrier(2, timeout=15)

    def answer_once_both_are_waiting(request):
        both_in_flight.wait()
        return Reply(text=STUB_TEXT)

    openai_stub.handler = answer_once_both_are_waiting
    yield
    openai_stub.handler = None


def test_one_task_thread_has_two_leads_llm_calls_in_flight_at_once(
        loop_broker, loop_worker, calls_overlap, channel_stubs, django_db_blocker):
    with django_db_blocker.unblock():
        deliver(loop_broker, 770001, 7701, "Hola, soy Marta y busco depto en Ñuñoa")
        deliver(loop_broker, 770002, 7702, "Hola, soy Pedro y busco casa en Maipú")
        assert replies_to(channel_stubs, {"7701", "7702"}) == {"7701": STUB_TEXT, "7702": STUB_TEXT}
        with loop_broker:
            leads = Lead.objects.filter(channel_user_id__in=["7701", "7702"]).values_list("id", flat=True)
            calls = list(LLMCall.objects.filter(broker=loop_broker, lead_id__in=list(leads))
                         .values_list("provider", "error", "fallback_used"))
            statuses = sorted(Message.objects.filter(conversation__channel_user_id__in=["7701", "7702"])
                              .values_list("direction", "status"))
    assert calls == [("openai", "", False)] * 2
    assert statuses == [("in", "processed")] * 2 + [("out", "sent")] * 2


def test_a_failed_call_on_the_loop_falls_back_to_the_offline_assistant(
        loop_broker, loop_worker, openai_stub, channel_stubs, django_db_blocker):
    openai_stub.push(Reply(status=500))
    with django_db_blocker.unblock():
        deliver(loop_broker, 770003, 7703, "Hola, soy Rosa y busco depto en Macul")
        reply = replies_to(channel_stubs, {"7703"})["7703"]
        with loop_broker:
            lead = Lead.objects.get(channel_user_id="7703")
            calls = list(LLMCall.objects.filter(broker=loop_broker, lead_id=lead.id)
                         .order_by("id").values_list("provider", "error", "fallback_used"))
            inbound = Message.objects.get(external_id="770003")
    assert "Rosa" in reply  # the offline assistant's answer, with what the lead said
    assert calls == [("openai", "HTTP 500", False), ("offline", "", True)]
    assert inbound.status == "processed"


def test_each_turn_ends_in_the_brokerage_that_started_it(
        loop_broker, other_broker, loop_worker, calls_overlap, channel_stubs, django_db_blocker):
    """Two brokerages' turns wait on the same loop and end on its shared threads: each reply is
    stored in its own brokerage's schema, recorded for it, and sent with its own bot."""
    with django_db_blocker.unblock():
        deliver(loop_broker, 770011, 7711, "Hola, soy Inés y busco depto en Providencia")
        deliver(other_broker, 770012, 7712, "Hola, soy Tomás y busco casa en Puente Alto")
        sent = sent_to(channel_stubs, {"7711", "7712"})
        answered, recorded = {}, {}
        for broker in (loop_broker, other_broker):
            with broker:
                answered[broker.slug] = set(Message.objects.filter(direction="out", conversation__channel_user_id__in=[
                    "7711", "7712"]).values_list("conversation__channel_user_id", flat=True))
                lead_ids = {lead.id: lead.channel_user_id for lead in Lead.objects.all()}
                recorded[broker.slug] = {lead_ids.get(lead_id) for lead_id in
                                         LLMCall.objects.filter(broker=broker).values_list("lead_id", flat=True)}
    assert sent["7711"]["path"].startswith("/bot777:loop-token/")
    assert sent["7712"]["path"].startswith("/bot778:otra-token/")
    assert answered == {loop_broker.slug: {"7711"}, other_broker.slug: {"7712"}}
    assert "7711" in recorded[loop_broker.slug] and "7712" not in recorded[loop_broker.slug]
    assert recorded[other_broker.slug] == {"7712"}
