"""What a call cost, from the `LLM_PRICES` table (USD per million tokens, per model)."""

from decimal import Decimal
from typing import Any

from django.conf import settings

_PER_TOKEN = Decimal(1_000_000)
_PRECISION = Decimal("0.00000001")


def llm_cost_usd(*, model: str, input_tokens: int, cached_tokens: int, output_tokens: int) -> Decimal:
    """Cost of one call; cached input tokens (a part of `input_tokens`) at the cached price. 0 when unpriced."""
    prices = _prices_for(model)
    if prices is None:
        return Decimal(0)
    input_price = Decimal(str(prices["input"]))
    cached_price = Decimal(str(prices.get("cached_input", prices["input"])))
    output_price = Decimal(str(prices["output"]))
    cost = (
        (input_tokens - cached_tokens) * input_price + cached_tokens * cached_price + output_tokens * output_price
    ) / _PER_TOKEN
    return cost.quantize(_PRECISION)


def _prices_for(model: str) -> dict[str, Any] | None:
    """The exact model's prices, else the longest priced prefix: providers answer with dated
    snapshots ("gpt-4o-mini-2024-07-18") of the model that was asked for."""
    table: dict[str, dict[str, Any]] = settings.LLM_PRICES
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name)]
    return table[max(prefixes, key=len)] if prefixes else None
