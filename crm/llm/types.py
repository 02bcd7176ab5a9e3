"""What goes into a provider and what comes out, whichever provider answers."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, TypedDict

CallType = Literal["qualify", "chat", "json"]
CALL_TYPES: tuple[CallType, ...] = ("qualify", "chat", "json")


class Message(TypedDict):
    """A chat message in the OpenAI shape; Gemini's adapter maps system/assistant to its own."""

    role: Literal["system", "user", "assistant"]
    content: str


class ToolSpec(TypedDict):
    """A tool the model may call: `parameters` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


class ToolCall(TypedDict):
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class LLMResult:
    """One provider's answer. `parsed` is the JSON object when a schema was asked for and given back.

    Token counts follow the providers: `input_tokens` includes `cached_tokens`. The facade fills
    in `latency_ms`, `cost_usd` and `fallback_used`.
    """

    text: str
    provider: str
    model: str
    parsed: Any = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    latency_ms: int = 0
    cost_usd: Decimal = Decimal(0)
    fallback_used: bool = False


class LLMProviderError(Exception):
    """A provider could not answer. The message is short and safe to store: no secrets, no content."""


class LLMProvider(Protocol):
    """What every provider implements. `context` carries structured facts the caller already has
    (the lead's known fields, the brokerage's priorities) for providers that cannot read prose,
    such as the rule-based offline assistant; network providers ignore it."""

    name: str
    model: str

    def complete(
        self,
        *,
        messages: Sequence[Message],
        call_type: CallType,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
        tools: Sequence[ToolSpec] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> LLMResult: ...
