"""A product suggestion for the counter, as every recommender returns it and the counter store keeps it."""

from __future__ import annotations

from dataclasses import dataclass

from core.counter.catalog import Product


@dataclass(frozen=True, slots=True)
class Recommendation:
    product: Product
    explanation: str
    transcript_excerpt: str
    matched: tuple[str, ...]
    provider: str  # "local", "openai" or "xai"
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    fallback_reason: str | None = None  # why an LLM recommender answered with the local result
