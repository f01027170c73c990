"""What a model costs, in credits per million tokens (input, cached input, output) and per tool
call; a table with defaults for the providers Magpie speaks, overridden by BILLING_PRICES.

Defaults are list prices turned into credits at about $0.02 a Star (what a person pays for
one), so 1 credit ≈ $0.00002: $0.15 per million tokens is 7,500 credits per million. The
offline model is free unless configured otherwise (the demo gives it a price).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields

MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    """Credits per million tokens, and per tool call."""

    input: int = 0
    cached_input: int = 0
    output: int = 0
    tool_call: int = 0

    @property
    def free(self) -> bool:
        return not (self.input or self.cached_input or self.output or self.tool_call)


@dataclass(frozen=True, slots=True)
class Usage:
    """What a turn used, as the provider reported it."""

    model: str
    tokens_in: int = 0  # all input tokens, cached ones included
    tokens_cached: int = 0
    tokens_out: int = 0
    tool_calls: int = 0


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def cost(price: Price, usage: Usage) -> int:
    """Credits for `usage` at `price`, rounded up (a priced turn is never free by rounding)."""
    cached = min(usage.tokens_cached, usage.tokens_in)
    fresh = max(usage.tokens_in - cached, 0)
    per_million = (
        fresh * price.input + cached * price.cached_input + usage.tokens_out * price.output
    )
    return _ceil_div(per_million, MILLION) + usage.tool_calls * price.tool_call


DEFAULTS: Mapping[str, Price] = {
    "offline": Price(),
    "openai:gpt-4o-mini": Price(input=7_500, cached_input=3_750, output=30_000, tool_call=0),
    "openai:gpt-4.1-mini": Price(input=20_000, cached_input=5_000, output=80_000),
    "openai:gpt-4.1": Price(input=100_000, cached_input=25_000, output=400_000),
    "openai:gpt-4o": Price(input=125_000, cached_input=62_500, output=500_000),
    "anthropic:claude-3-5-haiku-latest": Price(input=40_000, cached_input=4_000, output=200_000),
    "anthropic:claude-sonnet-4-0": Price(input=150_000, cached_input=15_000, output=750_000),
    "google-gla:gemini-2.0-flash": Price(input=5_000, cached_input=1_250, output=20_000),
    "google-gla:gemini-2.5-flash": Price(input=15_000, cached_input=3_750, output=125_000),
}
# A model the table does not name costs this: better to over-charge a little than give away
# an expensive model for free.
UNKNOWN = Price(input=150_000, cached_input=15_000, output=750_000)


class PriceTable:
    """Prices by model label; a label's provider prefix is matched too ("openai:*")."""

    def __init__(self, prices: Mapping[str, Price], *, unknown: Price = UNKNOWN) -> None:
        self._prices = dict(prices)
        self._unknown = unknown

    @classmethod
    def with_overrides(cls, overrides: str | Mapping[str, Price] = "{}") -> PriceTable:
        extra = parse_prices(overrides) if isinstance(overrides, str) else dict(overrides)
        return cls({**DEFAULTS, **extra})

    def price(self, model: str) -> Price:
        found = self._prices.get(model)
        if found is None:
            found = self._prices.get(f"{model.partition(':')[0]}:*", self._unknown)
        return found

    def cost(self, usage: Usage) -> int:
        return cost(self.price(usage.model), usage)

    def all_free(self) -> bool:
        return all(price.free for price in self._prices.values()) and self._unknown.free


_FIELDS = {f.name for f in fields(Price)}


def parse_prices(text: str) -> dict[str, Price]:
    """BILLING_PRICES: {"model": {"input": credits per 1M, "cached_input", "output",
    "tool_call": credits per call}}; raises ValueError with what is wrong."""
    try:
        data = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg}") from None
    if not isinstance(data, dict):
        raise ValueError('expected {"model": {"input": …, "output": …}}')
    table: dict[str, Price] = {}
    for model, values in data.items():
        if not isinstance(values, dict) or not set(values) <= _FIELDS:
            raise ValueError(f"{model}: expected keys among {sorted(_FIELDS)}")
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values.values()
        ):
            raise ValueError(f"{model}: prices are whole credits, 0 or more")
        table[str(model)] = Price(**values)
    return table
