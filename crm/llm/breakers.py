"""One circuit breaker per provider, shared by every call in the process.

Never one breaker for all providers: the primary's failures must not stop the fallback.
"""

import threading
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import pybreaker
from django.conf import settings

_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_lock = threading.Lock()


class ConcurrentCircuitBreaker(pybreaker.CircuitBreaker):
    """pybreaker's `call` holds the breaker's lock for the whole guarded call, so every LLM call of
    a process waited for the one before it (64 worker threads, one turn per second). Here the lock
    guards only reading and updating the state; the calls themselves run side by side."""

    def call(self, func, *args, **kwargs):
        state = self._admit(func, *args, **kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            self._failed(state, exc)
        self._succeeded(state)
        return result

    async def call_async(self, func, *args, **kwargs):
        """`call` for a coroutine function (a provider's `acomplete` on the worker's event loop)."""
        state = self._admit(func, *args, **kwargs)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            self._failed(state, exc)
        self._succeeded(state)
        return result

    def _admit(self, func, *args, **kwargs):
        """The state the call runs under; CircuitBreakerError while the circuit is open."""
        with self._lock:
            if self.current_state == pybreaker.STATE_OPEN:
                opened_at = self._state_storage.opened_at
                if opened_at and datetime.now(UTC) < opened_at + timedelta(seconds=self.reset_timeout):
                    raise pybreaker.CircuitBreakerError("Timeout not elapsed yet, circuit breaker still open")
                self.half_open()
            for listener in self.listeners:
                listener.before_call(self, func, *args, **kwargs)
            return self.state

    def _failed(self, state, exc: BaseException) -> NoReturn:
        with self._lock:
            state._handle_error(exc)  # counts the failure, may open the circuit, re-raises

    def _succeeded(self, state) -> None:
        with self._lock:
            state._handle_success()


def breaker_for(provider: str) -> pybreaker.CircuitBreaker:
    """The breaker of `provider`, with its limits as configured now."""
    with _lock:
        breaker = _breakers.get(provider)
        if breaker is None:
            # Re-raise the provider's own error when the breaker trips, so the attempt records why.
            breaker = ConcurrentCircuitBreaker(name=f"llm-{provider}", throw_new_error_on_trip=False)
            _breakers[provider] = breaker
    breaker.fail_max = settings.LLM_BREAKER_FAIL_MAX
    breaker.reset_timeout = settings.LLM_BREAKER_RESET_SECONDS
    return breaker
