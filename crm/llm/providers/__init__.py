"""LLM providers behind the facade, and how to get the one a name refers to."""

import threading
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from crm.llm.providers.openai_provider import OpenAIProvider
from crm.llm.types import LLMProvider

NETWORK_PROVIDERS = ("openai", "gemini")
# lru_cache does not stop threads that miss together from each building a client (a TLS context
# each): a worker's threads all start their first turn at once.
_building = threading.Lock()


def network_provider_get(name: str) -> LLMProvider | None:
    """The network provider called `name` as configured now, or None when it has no API key."""
    timeout, retries = settings.LLM_TIMEOUT_SECONDS, settings.LLM_MAX_RETRIES
    with _building:
        if name == "openai" and settings.OPENAI_API_KEY:
            return _openai(settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.OPENAI_MODEL, timeout,
                           retries)
        if name == "gemini" and settings.GEMINI_API_KEY:
            return _gemini(settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL, settings.GEMINI_MODEL, timeout,
                           retries)
    return None


def offline_provider_get() -> LLMProvider:
    """The offline provider named by `LLM_OFFLINE_PROVIDER` (a dotted path to a class or factory)."""
    return _offline(settings.LLM_OFFLINE_PROVIDER)


# Clients are built once per configuration and reused: each holds a connection pool.
@lru_cache(maxsize=8)
def _openai(api_key: str, base_url: str, model: str, timeout: float, max_retries: int) -> OpenAIProvider:
    return OpenAIProvider(api_key=api_key, base_url=base_url, model=model, timeout=timeout, max_retries=max_retries)


@lru_cache(maxsize=8)
def _gemini(api_key: str, base_url: str, model: str, timeout: float, max_retries: int) -> LLMProvider:
    # Imported on first use: google-genai adds ~14 MB to every process that never calls Gemini.
    from crm.llm.providers.gemini_provider import GeminiProvider

    return GeminiProvider(api_key=api_key, base_url=base_url, model=model, timeout=timeout, max_retries=max_retries)


@lru_cache(maxsize=4)
def _offline(dotted_path: str) -> LLMProvider:
    return import_string(dotted_path)()
