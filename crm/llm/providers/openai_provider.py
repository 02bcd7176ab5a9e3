"""OpenAI Chat Completions through the official SDK; any OpenAI-compatible endpoint via `base_url`."""

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from crm.llm.providers.common import AsyncClients, parse_json_output, parse_tool_arguments, require_answer
from crm.llm.types import CallType, LLMProviderError, LLMResult, Message, ToolCall, ToolSpec


class OpenAIProvider:
    name = "openai"

    def __init__(self, *, api_key: str, base_url: str, model: str, timeout: float, max_retries: int) -> None:
        self.model = model
        # Few or no SDK retries: a stalled provider must reach the breaker and the fallback quickly.
        options = {"api_key": api_key, "base_url": base_url, "timeout": timeout, "max_retries": max_retries}
        self._client = openai.OpenAI(**options)
        self._async_clients = AsyncClients(lambda: openai.AsyncOpenAI(**options))

    def complete(
        self,
        *,
        messages: Sequence[Message],
        call_type: CallType,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
        tools: Sequence[ToolSpec] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> LLMResult:
        with _provider_errors():
            # The SDK's own request (auth, base URL, retries, errors, typed response) without
            # `chat.completions.create`'s walk of the body against its TypedDicts: that walk
            # returns plain JSON such as this body unchanged, and cost ~15% of a whole turn's CPU.
            response = self._client.post("/chat/completions", body=self._body(messages, temperature, json_schema,
                                                                              tools), cast_to=ChatCompletion)
        return require_answer(self._result(response, json_schema))

    async def acomplete(
        self,
        *,
        messages: Sequence[Message],
        call_type: CallType,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
        tools: Sequence[ToolSpec] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> LLMResult:
        """`complete` awaited on an event loop (the worker's turns: no thread waits for the answer)."""
        with _provider_errors():
            response = await self._async_clients.next().post("/chat/completions", body=self._body(
                messages, temperature, json_schema, tools), cast_to=ChatCompletion)
        return require_answer(self._result(response, json_schema))

    def _body(self, messages: Sequence[Message], temperature: float, json_schema: dict[str, Any] | None,
              tools: Sequence[ToolSpec] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages), "temperature": temperature}
        if json_schema is not None:
            body["response_format"] = _response_format(json_schema)
        if tools:
            body["tools"] = [_tool(spec) for spec in tools]
        return body

    def _result(self, response: ChatCompletion, json_schema: dict[str, Any] | None) -> LLMResult:
        if not response.choices:
            raise LLMProviderError("no choices")
        message = response.choices[0].message
        text = message.content or ""
        usage = response.usage
        details = usage.prompt_tokens_details if usage else None
        return LLMResult(
            text=text,
            provider=self.name,
            model=response.model or self.model,
            parsed=parse_json_output(text, json_schema) if json_schema is not None and text else None,
            tool_calls=[_tool_call(call) for call in message.tool_calls or [] if call.type == "function"],
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            cached_tokens=(details.cached_tokens or 0) if details else 0,
        )


@contextmanager
def _provider_errors() -> Iterator[None]:
    """The SDK's errors as the facade's, with a reason safe to record."""
    try:
        yield
    except openai.APIStatusError as exc:
        raise LLMProviderError(f"HTTP {exc.status_code}") from exc
    except openai.APITimeoutError as exc:
        raise LLMProviderError("timeout") from exc
    except openai.APIConnectionError as exc:
        raise LLMProviderError("connection error") from exc


def _response_format(schema: dict[str, Any]) -> dict[str, Any]:
    # Not strict: strict mode rejects schemas outside its subset with a 400; the answer is
    # validated against the schema here instead (parse_json_output).
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title", "result")))[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


def _tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": spec["name"], "description": spec["description"], "parameters": spec["parameters"]},
    }


def _tool_call(call: Any) -> ToolCall:
    return {"name": call.function.name, "arguments": parse_tool_arguments(call.function.arguments)}
