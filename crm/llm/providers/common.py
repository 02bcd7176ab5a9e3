"""Checks shared by the network providers: what they hand back must be usable as it is."""

import json
from typing import Any

import jsonschema

from crm.llm.types import LLMProviderError, LLMResult


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
