"""The worker's LLM wait loop: calls wait on one event loop, their continuations run on its threads
in the caller's context, and a warm shutdown waits for them."""

import asyncio
import contextvars
import threading

import pytest

from crm.llm import waiting

request_id = contextvars.ContextVar("request_id", default=None)


@pytest.fixture
def loop():
    return waiting.LLMWaitLoop(threads=2)


def test_the_continuation_gets_the_result_on_another_thread_in_the_callers_context(loop):
    async def call():
        await asyncio.sleep(0.05)
        return "respuesta"

    seen, done = [], threading.Event()

    def then(future):
        seen.append((future.result(), request_id.get(), threading.current_thread().name))
        done.set()

    request_id.set("req-1")
    loop.submit(call(), then)
    assert done.wait(5)
    [(result, context, thread)] = seen
    assert (result, context) == ("respuesta", "req-1") and thread.startswith("llm-continue")


def test_what_the_call_raised_reaches_the_continuation(loop):
    async def call():
        raise TimeoutError("sin respuesta")

    errors = []
    loop.submit(call(), lambda future: errors.append(future.exception()))
    assert loop.drain(5)
    assert [str(e) for e in errors] == ["sin respuesta"]


def test_drain_waits_for_the_calls_in_flight_and_says_when_time_ran_out(loop):
    release = threading.Event()

    async def slow():
        while not release.is_set():
            await asyncio.sleep(0.01)

    ended = []
    loop.submit(slow(), lambda future: ended.append(True))
    assert loop.drain(0.1) is False and ended == []
    release.set()
    assert loop.drain(5) is True and ended == [True]


def test_only_an_enabled_process_has_a_loop(settings, monkeypatch):
    monkeypatch.setattr(waiting, "_enabled", False)
    assert waiting.llm_wait_loop() is None  # web requests, the shell, eager tasks: the thread waits
    settings.LLM_WAIT_LOOP = False
    waiting.enable()
    assert waiting.llm_wait_loop() is None
    settings.LLM_WAIT_LOOP = True
    waiting.enable()
    assert isinstance(waiting.llm_wait_loop(), waiting.LLMWaitLoop)
    assert waiting.llm_wait_loop() is waiting.llm_wait_loop()  # one per process
