"""Anthropic prices, so every teacher call records what it cost.

USD per million tokens, from platform.claude.com/docs/en/about-claude/pricing (read Nov 2026).
Cache writes are the 5-minute kind (1.25x input); cache reads 0.1x input; Message Batches are
half price on everything. A model missing here gets ``cost_usd=None`` (unknown), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Price:
    input: float
    output: float
    cache_write: float
    cache_read: float


PRICES: dict[str, Price] = {
    "claude-haiku-4-5": Price(input=1.00, output=5.00, cache_write=1.25, cache_read=0.10),
    # Listed as "from $0.10 / $0.50": the floor of its price range, so costs are a lower bound.
    "claude-haiku-5-5": Price(input=0.10, output=0.50, cache_write=0.125, cache_read=0.01),
    "claude-sonnet-4-5": Price(input=3.00, output=15.00, cache_write=3.75, cache_read=0.30),
}
BATCH_DISCOUNT = 0.5


def price_for(model: str) -> Price | None:
    """Exact id first, then the family of a dated id (``claude-haiku-4-5-20251001``)."""
    if model in PRICES:
        return PRICES[model]
    for family, price in PRICES.items():
        if model.startswith(family + "-"):
            return price
    return None


def cost_usd(model: str, usage: Any, *, batch: bool = False) -> float | None:
    """Price an Anthropic ``usage`` object (or dict): input, output, cache write and read."""
    price = price_for(model)
    if price is None or usage is None:
        return None

    def tokens(name: str) -> int:
        value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
        return int(value or 0)

    total = (tokens("input_tokens") * price.input
             + tokens("output_tokens") * price.output
             + tokens("cache_creation_input_tokens") * price.cache_write
             + tokens("cache_read_input_tokens") * price.cache_read) / 1_000_000
    return round(total * (BATCH_DISCOUNT if batch else 1.0), 10)
