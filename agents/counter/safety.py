"""Safety rules shared by every recommender: they run after ranking and again after an LLM answers.

1. Never a prescription-only product.
2. Never a product contraindicated by a condition mentioned in the conversation (pregnancy,
   hypertension, a child, dengue...), by a symptom that rules it out (loperamide with fever), or by a
   stated allergy to one of its ingredients. Adult-only products list ``criança`` among their
   contraindications, so a child mentioned rules them out here too.
"""

from __future__ import annotations

from collections.abc import Collection

from core.counter.catalog import IndexedProduct
from core.counter.lexicon import LABELS


def unsafe_reason(item: IndexedProduct, conditions: Collection[str], needs: Collection[str] = ()) -> str | None:
    """Why ``item`` must not be suggested now, or None when it may be."""
    if item.product.prescription_required:
        return "exige receita"
    for concept in conditions:
        if concept.startswith("alergia:") and concept.removeprefix("alergia:") in item.ingredients:
            return f"alergia a {concept.removeprefix('alergia:')}"
        if concept in item.contraindications:
            return LABELS.get(concept, concept.removeprefix("lit:"))
    for concept in needs:
        if concept in item.contraindications:
            return LABELS.get(concept, concept.removeprefix("lit:"))
    return None


def is_safe(item: IndexedProduct, conditions: Collection[str], needs: Collection[str] = ()) -> bool:
    return unsafe_reason(item, conditions, needs) is None
