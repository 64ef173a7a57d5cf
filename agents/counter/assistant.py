"""``CounterAssistant``: transcript segments in, seed 001 recommendation events out.

The live counter profile (and ``escuta replay --profile counter``, and the bench) feed it one
``Segment`` per utterance; it keeps the session's state (what was said, what was already suggested),
asks its recommender, and returns the events to push to the device, each with what storage needs
(provider, tokens, latency). It does no I/O of its own besides the recommender's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from agents.counter.conversation import ConversationState, Segment, TurnDelta
from agents.counter.events import RecommendationEvent, build_recommendation_event
from agents.counter.recommender.base import RecommendContext, Recommender
from agents.counter.safety import Patient, unsafe_reason
from core.counter.catalog import CatalogIndex
from core.counter.recommendation import Recommendation

log = logging.getLogger("escuta.counter")


@dataclass(frozen=True, slots=True)
class RecommendationOutcome:
    event: RecommendationEvent
    recommendation: Recommendation
    segment: Segment
    latency_ms: float  # from receiving the segment to the event being ready


class CounterAssistant:
    """One per counter session. Concurrent ``on_segment`` calls are serialized (in arrival order)."""

    def __init__(
        self,
        index: CatalogIndex,
        recommender: Recommender,
        *,
        atendente: str | None = None,
        window: int = 12,
        new_customer_gap: float | None = 90.0,
    ) -> None:
        """``new_customer_gap``: seconds of silence after which the next utterance starts a new customer
        (a counter device stays in its room all day; one customer's symptoms and risks must not carry
        over to the next). None keeps one conversation."""
        self.index = index
        self.recommender = recommender
        self.atendente = atendente
        self.window = window
        self.new_customer_gap = new_customer_gap
        self.state = ConversationState(index, window=window)
        self.suggested: dict[str, frozenset[str]] = {}
        self.last_product_id: str | None = None
        self.customers = 1
        self._last_end: float | None = None
        self._lock = asyncio.Lock()
        self.last_delta = TurnDelta()
        self.last_latency_ms = 0.0
        self.unsupported_utterances = 0
        self.blocked = 0  # suggestions the final safety filter stopped (a recommender's bug, or a model's)

    def _clerk_name(self) -> str:
        if self.atendente:
            return self.atendente
        for seg in reversed(self.state.turns):
            if seg.role == "atendente":
                return seg.speaker_identity
        return ""

    async def on_segment(self, segment: Segment) -> list[RecommendationOutcome]:
        """Fold one utterance in; the events it triggers (zero or one today)."""
        received = time.perf_counter()
        # Speakers are transcribed concurrently; one utterance at a time keeps the state and the
        # "already suggested" check consistent across the recommender's await.
        async with self._lock:
            try:
                return await self._on_segment(segment, received)
            finally:
                self.last_latency_ms = round((time.perf_counter() - received) * 1000, 3)

    def reset(self) -> None:
        """Start over for a new customer: nothing said before counts, anything may be suggested again."""
        self.state = ConversationState(self.index, window=self.window)
        self.suggested = {}
        self.last_product_id = None
        self.customers += 1

    async def _on_segment(self, segment: Segment, received: float) -> list[RecommendationOutcome]:
        if not segment.text.strip():
            return []
        gap = self.new_customer_gap
        if gap is not None and self._last_end is not None and segment.start - self._last_end > gap:
            self.reset()
        self._last_end = segment.end if self._last_end is None else max(self._last_end, segment.end)
        delta = self.state.add(segment)
        self.last_delta = delta
        if delta.unsupported:
            self.unsupported_utterances += 1  # counted in the job summary; the text is never logged
        if not delta.changed:
            return []
        ctx = RecommendContext(self.state, delta, dict(self.suggested), self.last_product_id)
        rec = await self.recommender.recommend(ctx)
        if rec is None:
            return []
        # The same safety filter after every recommender, whatever it is: the last word before the device.
        item = self.index.by_id.get(rec.product.id)
        reason = "not in the catalog" if item is None else unsafe_reason(item, Patient.of(self.state))
        if reason is not None:
            self.blocked += 1
            log.warning("counter: blocked an unsafe suggestion from %s (%s)", rec.provider, reason)
            return []
        previous = self.suggested.get(rec.product.id, frozenset())
        self.suggested[rec.product.id] = previous | frozenset(rec.matched)
        self.last_product_id = rec.product.id
        event = build_recommendation_event(
            produto=rec.product.name,
            explicacao=rec.explanation,
            transcricao_base=rec.transcript_excerpt,
            atendente=self._clerk_name(),
        )
        latency = (time.perf_counter() - received) * 1000
        return [RecommendationOutcome(event, rec, segment, round(latency, 3))]

    async def aclose(self) -> None:
        await self.recommender.aclose()
