"""What the network providers share: checks that what they hand back is usable as it is, and
their asynchronous clients on the worker's event loop."""

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import jsonschema

from crm.llm.types import LLMProviderError, LLMResult

Client = TypeVar("Client")
ASYNC_CLIENTS = 8


class AsyncClients(Generic[Client]):
    """A few asynchronous clients of the running event loop, taken in turn (their connections belong
    to that loop). Several, not one: before each request httpx's pool checks every connection it
    holds, and with 100 calls in flight one pool of 100 connections cost the loop thread 1.7 ms of
    CPU per call against 1.1 ms for 8 pools of a dozen connections each (bench/RESULTS.md)."""

    def __init__(self, make: Callable[[], Client], count: int = ASYNC_CLIENTS) -> None:
        self._make, self._count = make, count
        self._loop: asyncio.AbstractEventLoop | None = None
        self._turns: itertools.cycle = itertools.cycle(())

    def next(self) -> Client:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._turns = loop, itertools.cycle([self._make() for _ in range(self._count)])
        return next(self._turns)


def parse_json_output(text: str, schema: dict[str, Any]) -> Any:
    """The model's JSON answer, checked against the schema the caller asked for."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LLMProviderError("invalid JSON output") from exc
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        raise LLMProviderError("JSON output does not match the schema") from exc
    return value


def parse_tool_arguments(raw: str) -> dict[str, Any]:
    try:
        arguments = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise LLMProviderError("invalid tool call arguments") from exc
    if not isinstance(arguments, dict):
        raise LLMProviderError("invalid tool call arguments")
    return arguments


def require_answer(result: LLMResult) -> LLMResult:
    """A reply with no text, no JSON and no tool call is a failure: the lead must get an answer."""
    if not result.text.strip() and result.parsed is None and not result.tool_calls:
        raise LLMProviderError("empty response")
    return result
