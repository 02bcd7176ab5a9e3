"""Gemini through the google-genai SDK (Gemini API, API key; base URL configurable)."""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx2
from google import genai
from google.genai import errors, types

from crm.llm.providers.common import AsyncClients, parse_json_output, require_answer
from crm.llm.types import CallType, LLMProviderError, LLMResult, Message, ToolCall, ToolSpec

_ROLES = {"user": "user", "assistant": "model"}


class GeminiProvider:
    name = "gemini"

    def __init__(self, *, api_key: str, base_url: str, model: str, timeout: float, max_retries: int) -> None:
        self.model = model
        http_options = types.HttpOptions(
            base_url=base_url,
            timeout=int(timeout * 1000),  # milliseconds
            # Explicit retry options also switch off the SDK's implicit retries on connection errors.
            retry_options=types.HttpRetryOptions(attempts=max_retries + 1),
        )
        self._client = genai.Client(api_key=api_key, vertexai=False, http_options=http_options)
        self._async_clients = AsyncClients(
            lambda: genai.Client(api_key=api_key, vertexai=False, http_options=http_options).aio)

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
        contents, config = _request(messages, temperature=temperature, json_schema=json_schema, tools=tools)
        with _provider_errors():
            response = self._client.models.generate_content(model=self.model, contents=contents, config=config)
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
        contents, config = _request(messages, temperature=temperature, json_schema=json_schema, tools=tools)
        with _provider_errors():
            response = await self._async_clients.next().models.generate_content(
                model=self.model, contents=contents, config=config)
        return require_answer(self._result(response, json_schema))

    def _result(self, response: types.GenerateContentResponse, json_schema: dict[str, Any] | None) -> LLMResult:
        if not response.candidates or response.candidates[0].content is None:
            raise LLMProviderError("no candidates")
        parts = response.candidates[0].content.parts or []
        text = "".join(part.text for part in parts if part.text and not part.thought)
        usage = response.usage_metadata or types.GenerateContentResponseUsageMetadata()
        return LLMResult(
            text=text,
            provider=self.name,
            model=response.model_version or self.model,
            parsed=parse_json_output(text, json_schema) if json_schema is not None and text else None,
            tool_calls=[_tool_call(part.function_call) for part in parts if part.function_call],
            input_tokens=usage.prompt_token_count or 0,
            # Thinking tokens are billed as output.
            output_tokens=(usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0),
            cached_tokens=usage.cached_content_token_count or 0,
        )


def _request(messages: Sequence[Message], *, temperature: float, json_schema: dict[str, Any] | None,
             tools: Sequence[ToolSpec] | None) -> tuple[list[types.Content], types.GenerateContentConfig]:
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    contents = [
        types.Content(role=_ROLES[m["role"]], parts=[types.Part(text=m["content"])])
        for m in messages
        if m["role"] != "system"
    ]
    return contents, _config(temperature=temperature, system=system, json_schema=json_schema, tools=tools)


@contextmanager
def _provider_errors() -> Iterator[None]:
    """The SDK's errors as the facade's, with a reason safe to record."""
    try:
        yield
    except errors.APIError as exc:
        raise LLMProviderError(f"HTTP {exc.code}") from exc
    except httpx2.TimeoutException as exc:
        raise LLMProviderError("timeout") from exc
    except httpx2.TransportError as exc:
        raise LLMProviderError("connection error") from exc


def _config(
    *, temperature: float, system: str, json_schema: dict[str, Any] | None, tools: Sequence[ToolSpec] | None
) -> types.GenerateContentConfig:
    config = types.GenerateContentConfig(
        temperature=temperature,
        system_instruction=system or None,
        # Tool calls go back to the caller; the SDK's automatic function-calling loop stays out.
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    if json_schema is not None:
        # responseJsonSchema takes standard JSON Schema (e.g. ["string", "null"]), the same schema
        # the OpenAI provider sends; responseSchema's OpenAPI subset rejects such schemas.
        config.response_mime_type = "application/json"
        config.response_json_schema = json_schema
    if tools:
        declarations = [
            types.FunctionDeclaration(
                name=t["name"], description=t["description"], parameters_json_schema=t["parameters"]
            )
            for t in tools
        ]
        config.tools = [types.Tool(function_declarations=declarations)]
    return config


def _tool_call(call: types.FunctionCall) -> ToolCall:
    return {"name": call.name or "", "arguments": dict(call.args or {})}
