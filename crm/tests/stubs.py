"""Stub LLM servers on 127.0.0.1 that speak the real wire formats, for the real SDKs to talk to.

    with OpenAIStub() as openai_stub:
        settings.OPENAI_BASE_URL = openai_stub.base_url
        openai_stub.reply = Reply(text="Hola")            # every request, until changed
        openai_stub.push(Reply(tool_calls=[("book_visit", {"slot": 3})]))  # the next request only
        openai_stub.fail(500)                               # every request answers 500
        openai_stub.hang(5)                                 # every request waits 5 s (released on exit)
        openai_stub.handler = lambda request: Reply(...)    # compute each reply from the request
        openai_stub.requests[-1].json["temperature"]        # what the SDK sent

`OpenAIStub` answers `POST /v1/chat/completions` (Chat Completions); `GeminiStub` answers
`POST /{v1,v1beta}/models/{model}:generateContent` (Gemini API; google-genai 3.x uses v1 by
default). Each request is recorded; any other path gets a 404 in the provider's error shape.

Both also answer embeddings (`POST /v1/embeddings`; `:embedContent` and `:batchEmbedContents`,
the latter being what google-genai's `embed_content` calls) with `fake_embedding`: a
deterministic bag-of-words vector, so texts that share words are close and search can be tested.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


class StubServer(ThreadingHTTPServer):
    """The stubs' threaded HTTP server. Its listen backlog takes a worker's burst of new connections:
    at the default (5) the kernel drops the connects beyond it and each client retries a second
    later, which a slow-LLM benchmark then reports as the server's latency."""

    request_queue_size = 256
    daemon_threads = True
    block_on_close = False

    def get_request(self):
        """Accepted sockets send at once, as real servers do: with Nagle's algorithm on, the body
        written after the headers waited for the client's delayed ACK, 40 ms on every keep-alive call."""
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


@dataclass(frozen=True)
class Reply:
    """What the stub answers: text and/or tool calls (name, arguments), token usage, or an HTTP error."""

    text: str | None = "Hola, ¿en qué comuna buscas tu propiedad?"
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    input_tokens: int = 120
    output_tokens: int = 30
    cached_tokens: int = 0
    thinking_tokens: int = 0  # reasoning/thoughts: part of output_tokens for OpenAI, apart for Gemini
    status: int = 200
    delay: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any]


class LLMStub:
    """An HTTP server in a thread; subclasses turn a Reply into their provider's response body."""

    def __init__(self) -> None:
        self.reply = Reply()
        self.handler: Callable[[RecordedRequest], Reply] | None = None
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = StubServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # --- configuration ---------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def push(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, then go back to `reply`."""
        with self._lock:
            self._queue.extend(replies)

    def fail(self, status: int = 500) -> None:
        self.reply = Reply(status=status)

    def hang(self, seconds: float) -> None:
        self.reply = Reply(delay=seconds)

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> LLMStub:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._released.set()  # wake hanging handlers so the SDK's connection closes promptly
        self._server.shutdown()
        self._server.server_close()

    # --- wire format (subclasses) ----------------------------------------------------

    path_pattern: re.Pattern[str]

    def success_body(self, request: RecordedRequest, reply: Reply) -> dict[str, Any]:
        raise NotImplementedError

    def error_body(self, status: int) -> dict[str, Any]:
        raise NotImplementedError

    # --- serving ---------------------------------------------------------------------

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.handler(request) if self.handler else self.reply

    def _answer(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(request)
        if not self.path_pattern.fullmatch(request.path):
            return 404, self.error_body(404)
        reply = self._next_reply(request)
        if reply.delay:
            self._released.wait(reply.delay)
        if reply.status != 200:
            return reply.status, self.error_body(reply.status)
        return 200, self.success_body(request, reply)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = RecordedRequest(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    json=json.loads(raw or b"{}"),
                )
                status, body = stub._answer(request)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout); nothing to answer

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


class OpenAIStub(LLMStub):
    """OpenAI Chat Completions: `POST /v1/chat/completions`; embeddings: `POST /v1/embeddings`."""

    path_pattern = re.compile(r"/v1/(chat/completions|embeddings)")

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def success_body(self, request: RecordedRequest, reply: Reply) -> dict[str, Any]:
        if request.path.endswith("/embeddings"):
            return self.embeddings_body(request, reply)
        tool_calls = [
            {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
            for i, (name, arguments) in enumerate(reply.tool_calls, start=1)
        ]
        message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None, "annotations": []}
        if tool_calls:
            message["tool_calls"] = tool_calls
        return {
            "id": f"chatcmpl-stub{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.json.get("model", "gpt-4o-mini"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if tool_calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": reply.input_tokens,
                "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens,
                "prompt_tokens_details": {"cached_tokens": reply.cached_tokens, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": reply.thinking_tokens,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_stub",
        }

    def embeddings_body(self, request: RecordedRequest, reply: Reply) -> dict[str, Any]:
        texts = request.json["input"]
        texts = [texts] if isinstance(texts, str) else texts
        vectors = [fake_embedding(text, request.json.get("dimensions") or 1536) for text in texts]
        base64_wanted = request.json.get("encoding_format") == "base64"  # the SDK's default
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i,
                 "embedding": base64.b64encode(vector.astype("<f4").tobytes()).decode() if base64_wanted
                 else vector.tolist()}
                for i, vector in enumerate(vectors)
            ],
            "model": request.json["model"],
            "usage": {"prompt_tokens": reply.input_tokens, "total_tokens": reply.input_tokens},
        }

    def error_body(self, status: int) -> dict[str, Any]:
        return {
            "error": {
                "message": "The server had an error while processing your request.",
                "type": "server_error" if status >= 500 else "invalid_request_error",
                "param": None,
                "code": None,
            }
        }


class GeminiStub(LLMStub):
    """Gemini API: `POST /v1/models/{model}:generateContent` (or v1beta); embeddings:
    `:embedContent` and `:batchEmbedContents`."""

    path_pattern = re.compile(r"/v1(beta)?/models/[\w.-]+:(generateContent|embedContent|batchEmbedContents)")

    @property
    def base_url(self) -> str:
        return self.url

    def success_body(self, request: RecordedRequest, reply: Reply) -> dict[str, Any]:
        if request.path.endswith(":batchEmbedContents"):
            return {"embeddings": [self.embedding(item) for item in request.json["requests"]]}
        if request.path.endswith(":embedContent"):
            return {"embedding": self.embedding(request.json)}
        parts: list[dict[str, Any]] = [{"text": reply.text}] if reply.text is not None else []
        parts += [{"functionCall": {"name": name, "args": arguments}} for name, arguments in reply.tool_calls]
        model = request.path.rsplit("/", 1)[-1].split(":", 1)[0]
        return {
            "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {
                "promptTokenCount": reply.input_tokens,
                "candidatesTokenCount": reply.output_tokens,
                "cachedContentTokenCount": reply.cached_tokens,
                "thoughtsTokenCount": reply.thinking_tokens,
                "totalTokenCount": reply.input_tokens + reply.output_tokens + reply.thinking_tokens,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": reply.input_tokens}],
            },
            "modelVersion": model,
            "responseId": f"stub-{len(self.requests)}",
        }

    @staticmethod
    def embedding(item: dict[str, Any]) -> dict[str, Any]:
        text = " ".join(part.get("text", "") for part in item["content"]["parts"])
        # Like the real API, a vector cut to outputDimensionality is not re-normalised.
        dimensions = item.get("outputDimensionality") or 768
        return {"values": (fake_embedding(text, 768)[:dimensions] * 3).tolist()}

    def error_body(self, status: int) -> dict[str, Any]:
        names = {
            400: "INVALID_ARGUMENT",
            404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }
        return {
            "error": {"code": status, "message": "Internal error encountered.", "status": names.get(status, "UNKNOWN")}
        }


def fake_embedding(text: str, dimensions: int) -> np.ndarray:
    """A unit vector that is the sum of one fixed random vector per lower-cased word: deterministic,
    and texts that share words are close (cosine ≈ the share of common words)."""
    total = np.zeros(dimensions)
    for word in re.findall(r"\w+", text.lower()):
        seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        total += np.random.default_rng(seed).standard_normal(dimensions)
    norm = np.linalg.norm(total)
    return total / norm if norm else total
