"""The LLM facade: one call, `llm_complete`, that always answers.

It tries the primary provider (`LLM_PROVIDER`), then `LLM_FALLBACK_PROVIDER`, then the
offline provider; each network provider sits behind its own circuit breaker, and every
attempt is recorded as a `brokers.LLMCall` in the caller's transaction.
"""

from crm.llm.facade import Attempt, llm_awaited_attempts, llm_complete
from crm.llm.types import CallType, LLMProvider, LLMResult, Message, ToolCall, ToolSpec

__all__ = ["Attempt", "CallType", "LLMProvider", "LLMResult", "Message", "ToolCall", "ToolSpec", "llm_complete",
           "llm_awaited_attempts"]
