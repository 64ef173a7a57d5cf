"""The local recommender: offline, deterministic, a few hundred microseconds per utterance.

Scoring, per safe product: the sum over the customer's active needs the product treats of the
concept's rarity weight (a specific need like "tosse seca" says more than "dor"), more for needs said
in the last turns; a bonus when the customer named one of its ingredients; a penalty for a
pediatric presentation when no child was mentioned (and a small bonus when one was). Ties go to the
product with fewer contraindications (safest first), then to the more focused one.
"""

from __future__ import annotations

from agents.counter.recommender.base import Candidate, RecommendContext, Recommender
from agents.counter.safety import Patient, age_note, is_safe
from core.counter.catalog import CatalogIndex, IndexedProduct
from core.counter.lexicon import IMPLIES, LABELS, OPPOSITES
from core.counter.recommendation import Recommendation

MIN_SCORE = 0.9
RECENT_TURNS = 3  # needs said within the last turns count fully, older ones less
OLD_NEED_FACTOR = 0.6
REQUEST_BONUS = 3.0
PEDIATRIC_BONUS = 0.6
PEDIATRIC_PENALTY = 2.0
DENIED_PENALTY = 0.5
MAX_EXPLANATION = 500


def label(concept: str) -> str:
    return LABELS.get(concept, concept.removeprefix("lit:"))


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _source(needs: dict[str, int], concept: str) -> str:
    """The need the customer said that implies ``concept`` ("contusao" for "dor"), or ``concept``."""
    if concept in needs and not any(concept in IMPLIES.get(n, ()) for n in needs if n != concept):
        return concept
    for need in needs:
        if concept in IMPLIES.get(need, ()):
            return need
    return concept


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " e " + items[-1]


class LocalRecommender(Recommender):
    provider = "local"

    def __init__(self, index: CatalogIndex, *, min_score: float = MIN_SCORE) -> None:
        self.index = index
        self.min_score = min_score

    def rank(self, ctx: RecommendContext) -> list[Candidate]:
        """Safe candidates, best first, excluding products already suggested for the same needs."""
        state = ctx.state
        last_turn = len(state.turns) - 1
        patient = Patient.of(state)
        child = patient.child
        recent_requests = {k for k, t in state.requests.items() if last_turn - t < RECENT_TURNS}
        denied = set(state.denied) | {
            OPPOSITES[c] for c in state.needs if c in OPPOSITES and OPPOSITES[c] not in state.needs
        }
        ranked: list[tuple[float, float, float, str, Candidate]] = []
        for item in self.index.candidates(state.needs, recent_requests):
            matched = [c for c in item.needs if c in state.needs]
            # Naming an ingredient ("com cafeína eu posso?") favours products that also fit a need.
            requested = bool(item.ingredients & recent_requests) and (bool(matched) or not state.needs)
            if not matched and not requested:
                continue
            if not is_safe(item, patient):
                continue
            before = ctx.suggested.get(item.product.id)
            if before is not None and set(matched) <= before:
                continue
            score = 0.0
            for c in matched:
                recency = 1.0 if last_turn - state.needs[c] < RECENT_TURNS else OLD_NEED_FACTOR
                score += item.needs[c] * self.index.weights.get(c, 1.0) * recency
            # A product for a symptom the customer denied ("não tem catarro") fits worse.
            score -= DENIED_PENALTY * sum(self.index.weights.get(c, 1.0) for c in item.needs if c in denied)
            if requested:
                score += REQUEST_BONUS
            if item.product.pediatric:
                score += PEDIATRIC_BONUS if child else -PEDIATRIC_PENALTY
            elif child and item.product.for_children:
                score += PEDIATRIC_BONUS  # made for children too: oral rehydration before a probiotic
            if score < self.min_score:
                continue
            matched.sort(key=lambda c: -self.index.weights.get(c, 1.0))
            candidate = Candidate(item, round(score, 4), tuple(matched), requested)
            ranked.append((-score, len(item.contraindications), len(item.needs), item.product.name, candidate))
        ranked.sort(key=lambda r: r[:4])
        return [r[4] for r in ranked]

    def choose(self, ctx: RecommendContext, ranked: list[Candidate]) -> Candidate | None:
        """The candidate this utterance calls for: one that answers what just changed."""
        delta = ctx.delta
        if delta.rx_request:
            return None  # a prescription-only request is answered with nothing, not a substitute
        answered = frozenset().union(*ctx.suggested.values()) if ctx.suggested else frozenset()
        # A need said again that nothing answered yet (it came with a prescription-only request, or
        # nothing was safe then) is worth answering now.
        fresh = delta.new_needs | (delta.restated_needs - answered)
        for cand in ranked:
            if set(cand.matched) & fresh or (cand.requested and cand.item.ingredients & delta.new_requests):
                return cand
        # New risk information made the last suggestion unsafe: offer the best safe alternative.
        last = ctx.last_product_id
        if last is not None and (delta.new_conditions or delta.new_needs or delta.new_medicines) and ranked:
            last_item = self.index.by_id.get(last)
            if last_item is not None and not is_safe(last_item, Patient.of(ctx.state)):
                return ranked[0]
        return None

    def explain(self, ctx: RecommendContext, cand: Candidate) -> str:
        item: IndexedProduct = cand.item
        state = ctx.state
        who = state.patient.describe(state.conditions, LABELS)
        parts: list[str] = [who] if who else []
        if cand.matched:
            # What the customer said (a sprain, not the "pain" it implies) and what the product is for.
            said = _unique([_source(state.needs, c) for c in cand.matched])[:3]
            treats = _unique([item.matched_labels.get(c, label(c)) for c in cand.matched])[:3]
            parts.append(f"Cliente relatou {_join([label(c) for c in said])}; indicado para {_join(treats)}.")
        if cand.requested:
            parts.append(f"Cliente pediu {_join(list(item.product.active_ingredients[:2]) or [item.product.name])}.")
        considered = sorted(c for c in state.conditions if not c.startswith("alergia:"))
        allergies = sorted(c.removeprefix("alergia:") for c in state.conditions if c.startswith("alergia:"))
        notes = [label(c) for c in considered] + [f"alergia a {a}" for a in allergies]
        if state.medicines:
            notes.append("os remédios que toma")
        if notes:
            parts.append(f"Sem contraindicação para {_join(notes)}.")
        note = age_note(item, Patient.of(state))
        if note:
            parts.append(note)
        if item.product.warnings:
            parts.append("Atenção: " + item.product.warnings.split(". ")[0].rstrip(".") + ".")
        text = " ".join(parts)
        return text if len(text) <= MAX_EXPLANATION else text[: MAX_EXPLANATION - 1] + "…"

    def build(self, ctx: RecommendContext, cand: Candidate, *, fallback_reason: str | None = None) -> Recommendation:
        excerpt = ctx.state.texts_for(set(cand.matched) | (set(ctx.state.requests) if cand.requested else set()))
        return Recommendation(
            product=cand.item.product,
            explanation=self.explain(ctx, cand),
            transcript_excerpt=excerpt,
            matched=cand.matched,
            provider=self.provider,
            fallback_reason=fallback_reason,
        )

    async def recommend(self, ctx: RecommendContext) -> Recommendation | None:
        return self.recommend_now(ctx)

    def recommend_now(self, ctx: RecommendContext, *, fallback_reason: str | None = None) -> Recommendation | None:
        """The synchronous core (the LLM recommender falls back to it without awaiting)."""
        if not ctx.delta.changed:
            return None
        cand = self.choose(ctx, self.rank(ctx))
        if cand is None:
            return None
        return self.build(ctx, cand, fallback_reason=fallback_reason)
