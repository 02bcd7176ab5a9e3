"""`llm_complete`: the one way the product asks an LLM for something."""

import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pybreaker
from django.conf import settings

from brokers.models import Broker, LLMCall
from crm.llm.breakers import breaker_for
from crm.llm.pricing import llm_cost_usd
from crm.llm.providers import NETWORK_PROVIDERS, network_provider_get, offline_provider_get
from crm.llm.providers.offline import FixedReplyProvider
from crm.llm.types import CALL_TYPES, CallType, LLMProvider, LLMProviderError, LLMResult, Message, ToolSpec

logger = logging.getLogger(__name__)

_ERROR_LENGTH = LLMCall._meta.get_field("error").max_length


@dataclass(frozen=True)
class Attempt:
    """One provider's try: its answer or what went wrong, and how long it took."""

    provider: LLMProvider
    result: LLMResult | None
    error: Exception | None
    latency_ms: int


def llm_complete(
    *,
    broker: Broker,
    messages: Sequence[Message],
    call_type: CallType,
    lead_id: int | None = None,
    json_schema: dict[str, Any] | None = None,
    tools: Sequence[ToolSpec] | None = None,
    context: Mapping[str, Any] | None = None,
    awaited: Sequence[Attempt] = (),
) -> LLMResult:
    """Answer from the first provider that can: `LLM_PROVIDER`, `LLM_FALLBACK_PROVIDER`, then offline.

    Always answers. Writes one `LLMCall` per attempt, synchronously, in the caller's transaction;
    every attempt after the first has `fallback_used`. The temperature comes from the call type.
    `awaited` are the network providers' attempts already made on an event loop (`llm_awaited_attempts`):
    recorded here, and fallen back from here when they all failed.
    """
    request = _request(messages=messages, call_type=call_type, json_schema=json_schema, tools=tools,
                       context=context)
    for index, (provider, guarded) in enumerate(provider_chain()):
        made = awaited[index] if index < len(awaited) and awaited[index].provider is provider else None
        result = _record(made or _call(provider, guarded, request), request=request, broker=broker,
                         lead_id=lead_id, fallback_used=index > 0)
        if result is not None:
            return result
    raise LLMProviderError("every provider failed")  # not reached: the fixed reply cannot fail


def llm_awaited_attempts(
    *,
    messages: Sequence[Message],
    call_type: CallType,
    json_schema: dict[str, Any] | None = None,
    tools: Sequence[ToolSpec] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Coroutine[Any, Any, list[Attempt]] | None:
    """The network providers' attempts (`LLM_PROVIDER`, then `LLM_FALLBACK_PROVIDER`, until one
    answers) as a coroutine to await on an event loop, for `llm_complete(awaited=…)` to record and
    fall back from; None when the first provider cannot wait on a loop (the offline one answers at
    once). Nothing is written here: the coroutine touches no database."""
    network = []
    for provider, guarded in provider_chain():
        if not guarded or not hasattr(provider, "acomplete"):
            break
        network.append(provider)
    if not network:
        return None
    request = _request(messages=messages, call_type=call_type, json_schema=json_schema, tools=tools,
                       context=context)
    return _calls_async(network, request)


async def _calls_async(providers: list[LLMProvider], request: dict[str, Any]) -> list[Attempt]:
    attempts = []
    for provider in providers:
        attempts.append(await _call_async(provider, request))
        if attempts[-1].result is not None:
            break
    return attempts


def _request(*, messages: Sequence[Message], call_type: CallType, json_schema: dict[str, Any] | None,
             tools: Sequence[ToolSpec] | None, context: Mapping[str, Any] | None) -> dict[str, Any]:
    if call_type not in CALL_TYPES:
        raise ValueError(f"unknown call type {call_type!r}")
    return {
        "messages": list(messages),
        "call_type": call_type,
        "temperature": settings.LLM_TEMPERATURES[call_type],
        "json_schema": json_schema,
        "tools": list(tools or []),
        "context": context,
    }


def provider_chain() -> list[tuple[LLMProvider, bool]]:
    """The providers to try, in order, each with whether its circuit breaker guards it.

    Network providers without an API key are left out, so with no keys the offline provider
    answers first. The built-in fixed reply backs up a plugged-in offline provider.
    """
    names = dict.fromkeys(n for n in (settings.LLM_PROVIDER, settings.LLM_FALLBACK_PROVIDER) if n in NETWORK_PROVIDERS)
    chain = [(provider, True) for provider in map(network_provider_get, names) if provider is not None]
    offline = _offline_provider()
    if offline is not None:
        chain.append((offline, False))
    if not isinstance(offline, FixedReplyProvider):
        chain.append((FixedReplyProvider(), False))
    return chain


def _offline_provider() -> LLMProvider | None:
    try:
        return offline_provider_get()
    except Exception:
        logger.exception("LLM_OFFLINE_PROVIDER could not be loaded; using the fixed reply")
        return None


def _call(provider: LLMProvider, guarded: bool, request: dict[str, Any]) -> Attempt:
    started = time.perf_counter()
    try:
        result = (
            breaker_for(provider.name).call(provider.complete, **request) if guarded else provider.complete(**request)
        )
    except Exception as exc:  # whatever went wrong, the next provider answers
        return Attempt(provider, None, exc, _elapsed_ms(started))
    return Attempt(provider, result, None, _elapsed_ms(started))


async def _call_async(provider: LLMProvider, request: dict[str, Any]) -> Attempt:
    started = time.perf_counter()
    try:
        result = await breaker_for(provider.name).call_async(provider.acomplete, **request)
    except Exception as exc:  # whatever went wrong, the next provider answers
        return Attempt(provider, None, exc, _elapsed_ms(started))
    return Attempt(provider, result, None, _elapsed_ms(started))


def _record(attempt: Attempt, *, request: dict[str, Any], broker: Broker, lead_id: int | None,
            fallback_used: bool) -> LLMResult | None:
    """One provider's try, recorded. None when it failed (the error is in its LLMCall row)."""
    provider, result = attempt.provider, attempt.result
    if result is None:
        error = _describe(attempt.error)
        logger.warning("LLM provider %s failed: %s", provider.name, error)
        llm_call_record(broker=broker, lead_id=lead_id, call_type=request["call_type"], provider=provider.name,
                        model=provider.model, latency_ms=attempt.latency_ms, fallback_used=fallback_used, error=error)
        return None
    call = llm_call_record(
        broker=broker,
        lead_id=lead_id,
        call_type=request["call_type"],
        provider=result.provider,
        model=result.model,
        latency_ms=attempt.latency_ms,
        fallback_used=fallback_used,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        cached_tokens=result.cached_tokens,
    )
    return replace(result, latency_ms=call.latency_ms, fallback_used=fallback_used, cost_usd=call.cost_usd)


def llm_call_record(
    *,
    broker: Broker,
    call_type: str,
    provider: str,
    model: str,
    latency_ms: int,
    lead_id: int | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cached_tokens: int = 0,
    fallback_used: bool = False,
    error: str = "",
) -> LLMCall:
    """One provider call's cost record (chat attempts here, embedding calls in `knowledge.embeddings`),
    priced from `LLM_PRICES`."""
    return LLMCall.objects.create(
        broker=broker, lead_id=lead_id, call_type=call_type, provider=provider, model=model, latency_ms=latency_ms,
        input_tokens=input_tokens, output_tokens=output_tokens, cached_tokens=cached_tokens,
        fallback_used=fallback_used, error=error[:_ERROR_LENGTH],
        cost_usd=llm_cost_usd(model=model, input_tokens=input_tokens, cached_tokens=cached_tokens,
                              output_tokens=output_tokens),
    )


def _describe(exc: Exception) -> str:
    """A short reason safe to store: our own messages, else only the exception's type (an SDK's
    message may quote the request)."""
    if isinstance(exc, pybreaker.CircuitBreakerError):
        reason = "circuit open"
    elif isinstance(exc, LLMProviderError):
        reason = str(exc)
    else:
        reason = type(exc).__name__
    return reason[:_ERROR_LENGTH]


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
