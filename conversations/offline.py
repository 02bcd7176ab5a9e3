"""The offline provider for the LLM facade: the rule-based assistant of `conversations.assistant`.

Plugged in with LLM_OFFLINE_PROVIDER = "conversations.offline.OfflineAssistant". It reads the
structured turn context the orchestrator passes (`context["turn"]`), not prose.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from appointments.chat import offline_calls
from conversations.assistant import TurnContext, offline_opening, offline_reply
from conversations.extraction import extract_fields
from crm.llm.types import CallType, LLMResult, Message, ToolSpec
from properties.chat import offline_calls as catalog_calls

NO_CONTEXT_REPLY = "¡Hola! Gracias por escribirnos. ¿Me cuentas qué tipo de propiedad buscas y en qué comuna?"


class OfflineAssistant:
    name = "offline"
    model = "rules-es-cl"

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
        if call_type == "json":
            last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
            fields = extract_fields(last_user)
            return LLMResult(text="", provider=self.name, model=self.model, parsed=fields)
        turn = (context or {}).get("turn")
        if not isinstance(turn, TurnContext):
            return LLMResult(text=NO_CONTEXT_REPLY, provider=self.name, model=self.model)
        last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        if tools and turn.catalog is not None:  # a question about stock: answer it before anything else
            calls = catalog_calls(turn.catalog)
        else:
            calls = offline_calls(turn.visit, last_user) if tools and turn.visit is not None else []
        # With a tool call, its result (units, slots, booking, confirmation) is the rest of the reply.
        text = " ".join(offline_opening(turn)) if calls else offline_reply(turn)
        return LLMResult(text=text, provider=self.name, model=self.model, tool_calls=calls)
