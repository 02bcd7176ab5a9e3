"""One circuit breaker per provider, shared by every call in the process.

Never one breaker for all providers: the primary's failures must not stop the fallback.
"""

import threading

import pybreaker
from django.conf import settings

_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_lock = threading.Lock()


def breaker_for(provider: str) -> pybreaker.CircuitBreaker:
    """The breaker of `provider`, with its limits as configured now."""
    with _lock:
        breaker = _breakers.get(provider)
        if breaker is None:
            # Re-raise the provider's own error when the breaker trips, so the attempt records why.
            breaker = pybreaker.CircuitBreaker(name=f"llm-{provider}", throw_new_error_on_trip=False)
            _breakers[provider] = breaker
    breaker.fail_max = settings.LLM_BREAKER_FAIL_MAX
    breaker.reset_timeout = settings.LLM_BREAKER_RESET_SECONDS
    return breaker
