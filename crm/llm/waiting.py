"""Where a worker's LLM calls wait: on one event loop per process, not on a thread each.

A task thread sends a turn's request off (`LLMWaitLoop.submit`) and goes on to its next task; when
the answer (or the error) is in, the rest of the turn runs on one of a few continuation threads.
Dozens of threads each waiting a second on a provider cost the process its interpreter lock: they
hand it to each other on every database round trip, and a turn's CPU grew by half (bench/RESULTS.md).

Only Celery workers use it (`enable` at worker start, `LLM_WAIT_LOOP` on): web requests, the shell
and tests' eager tasks wait on their own thread, as before.
"""

import asyncio
import contextvars
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


class LLMWaitLoop:
    """An event loop on a thread of its own, and the threads that carry on once a call is done."""

    def __init__(self, *, threads: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._continuations = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="llm-continue")
        self._pending = 0
        self._idle = threading.Condition()
        threading.Thread(target=self._loop.run_forever, name="llm-loop", daemon=True).start()

    def submit(self, call: Coroutine[Any, Any, Any], then: Callable[[Future], None]) -> None:
        """Await `call` on the loop, then run `then(future)` on a continuation thread, in the context
        of the caller (its log fields): `future.result()` is what the call returned or raised."""
        context = contextvars.copy_context()
        with self._idle:
            self._pending += 1
        future = asyncio.run_coroutine_threadsafe(call, self._loop)
        future.add_done_callback(lambda done: self._continuations.submit(context.run, self._carry_on, then, done))

    def _carry_on(self, then: Callable[[Future], None], done: Future) -> None:
        try:
            then(done)
        except Exception:
            logger.exception("an LLM call's continuation failed")
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until every call submitted has run its continuation; False when `timeout` ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


_enabled = False
_loop: tuple[int, LLMWaitLoop] | None = None  # (process id, loop): a forked child builds its own
_building = threading.Lock()


def enable() -> None:
    """This process is a Celery worker: its turns' LLM calls may wait on the loop."""
    global _enabled
    _enabled = settings.LLM_WAIT_LOOP


def llm_wait_loop() -> LLMWaitLoop | None:
    """The process's loop, started on first use; None outside a worker (the call waits on its thread)."""
    global _loop
    if not _enabled:
        return None
    with _building:
        if _loop is None or _loop[0] != os.getpid():
            _loop = (os.getpid(), LLMWaitLoop(threads=settings.LLM_CONTINUATION_THREADS))
        return _loop[1]


def drain(timeout: float) -> bool:
    """A worker's warm shutdown: the turns whose LLM calls are in flight end before the process does."""
    return _loop is None or _loop[0] != os.getpid() or _loop[1].drain(timeout)
