"""The built-in offline provider: a polite fixed reply, so the facade answers with nothing else set up.

The real offline assistant (rule-based, Chilean Spanish) lives in `conversations` and is plugged
in with the `LLM_OFFLINE_PROVIDER` setting: a dotted path to a class (or any factory) whose
instance implements `crm.llm.types.LLMProvider` with `name = "offline"`. The facade also falls
back to this provider when that one fails.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from crm.llm.types import CallType, LLMResult, Message, ToolSpec

FIXED_REPLY = (
    "¡Gracias por escribirnos! En este momento no puedo responderte en detalle, "
    "pero un ejecutivo de la corredora te contactará muy pronto."
)


class FixedReplyProvider:
    name = "offline"
    model = "fixed-reply"

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
        # No structured answer (parsed=None) rather than an empty object that may not fit the schema.
        return LLMResult(text=FIXED_REPLY, provider=self.name, model=self.model)
