"""The recommender capability: one base class, a local and an LLM implementation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from agents.counter.conversation import ConversationState, TurnDelta
from core.counter.catalog import IndexedProduct
from core.counter.recommendation import Recommendation


@dataclass(frozen=True, slots=True)
class Candidate:
    """A safe product matching the conversation, with why it matched."""

    item: IndexedProduct
    score: float
    matched: tuple[str, ...]  # need concepts it treats, most important first
    requested: bool = False  # the customer named one of its ingredients


@dataclass
class RecommendContext:
    """What a recommender sees for one utterance."""

    state: ConversationState
    delta: TurnDelta
    # product id -> the needs it was suggested for; a product is suggested again only for new needs.
    suggested: dict[str, frozenset[str]] = field(default_factory=dict)
    last_product_id: str | None = None


class Recommender(ABC):
    """Decides whether the latest utterance calls for a product, and which one.

    Implementations must return only products that pass ``agents.counter.safety`` for the context's
    conditions, and must not repeat a product of ``ctx.suggested`` unless it now treats a new need.
    """

    provider: str = "local"

    @abstractmethod
    async def recommend(self, ctx: RecommendContext) -> Recommendation | None: ...

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most recommenders hold nothing
        """Release clients (HTTP connections); the default holds nothing."""
