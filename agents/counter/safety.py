"""The one safety filter: it runs inside the ranker, on the LLM's answer, and on whatever any
recommender returns before the event leaves (``CounterAssistant``).

Rules, in order (docs/counter.md lists each with its source):

1. Never a prescription-only product.
2. Never a product with an ingredient the patient is allergic to (by ingredient or class).
3. Age: never below the product's minimum age. When a child is mentioned but the age is not known,
   never an adult-only form (12 years or more); for a baby ("bebê", "nenê", no age) nothing whose
   minimum age is above 6 months. A child's product with a minimum age is suggested with
   "Confirmar a idade: a partir de ..." in the explanation.
4. Pregnancy and breastfeeding: only products the catalog marks ``seguro``; ``cautela`` and
   ``contraindicado`` are left to the doctor.
5. Never a product contraindicated by a condition mentioned (hypertension, dengue, ulcer, asthma,
   diabetes, glaucoma, liver, kidneys, pregnancy, a child...) or by a symptom (loperamide and fever).
6. Never a product that interacts with a medicine the patient takes, by ingredient or class
   ("Marevan" is varfarina, an anticoagulante).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from agents.counter.conversation import ConversationState
from core.counter.catalog import IndexedProduct
from core.counter.lexicon import LABELS
from core.counter.restrictions import ADULT_MONTHS, describe_age

ASSUMED_BABY_MONTHS = 6


@dataclass(frozen=True, slots=True)
class Patient:
    """The facts the rules need, taken from the conversation once per utterance."""

    conditions: frozenset[str]
    needs: frozenset[str] = frozenset()
    age_months: int | None = None
    baby: bool = False
    medicines: frozenset[str] = frozenset()  # ingredient and class keys

    @property
    def child(self) -> bool:
        return "crianca" in self.conditions

    @classmethod
    def of(cls, state: ConversationState) -> Patient:
        age = state.patient.age_months
        return cls(
            conditions=frozenset(state.conditions),
            needs=frozenset(state.needs),
            age_months=age,
            baby=state.patient.subject == "bebe" or (age is not None and age < 24),
            medicines=state.medicine_keys(),
        )


def _label(concept: str) -> str:
    return LABELS.get(concept, concept.removeprefix("lit:"))


def age_note(item: IndexedProduct, patient: Patient) -> str | None:
    """ "Confirmar a idade" when a child's age is unknown and the product has a minimum age."""
    min_age = item.min_age_months
    if patient.child and patient.age_months is None and min_age:
        return f"Confirmar a idade: a partir de {describe_age(min_age)}."
    return None


def unsafe_reason(item: IndexedProduct, patient: Patient) -> str | None:
    """Why ``item`` must not be suggested to ``patient``, or None when it may be."""
    product = item.product
    if product.prescription_required:
        return "exige receita"
    for concept in patient.conditions:
        if concept.startswith("alergia:") and concept.removeprefix("alergia:") in item.ingredients:
            return f"alergia a {concept.removeprefix('alergia:')}"
    min_age = item.min_age_months
    if min_age is not None:
        if patient.age_months is not None:
            if patient.age_months < min_age:
                return f"idade mínima {describe_age(min_age)}"
        elif patient.child:
            if min_age >= ADULT_MONTHS:
                return "uso adulto e idade da criança não informada"
            if patient.baby and min_age > ASSUMED_BABY_MONTHS:
                return f"idade mínima {describe_age(min_age)} e bebê de idade não informada"
    if "gravidez" in patient.conditions and product.pregnancy in ("cautela", "contraindicado"):
        return f"gravidez ({product.pregnancy})"
    if "amamentacao" in patient.conditions and product.breastfeeding in ("cautela", "contraindicado"):
        return f"amamentação ({product.breastfeeding})"
    for concept in patient.conditions:
        if concept in item.contraindications:
            if concept == "crianca" and patient.age_months is not None and min_age is not None:
                continue  # a known age was checked against the product's own minimum above
            return _label(concept)
    clash = item.interactions & patient.medicines
    if clash:
        return "interage com " + ", ".join(sorted(clash))
    for concept in patient.needs:
        if concept in item.contraindications:
            return _label(concept)
    return None


def is_safe(item: IndexedProduct, patient: Patient) -> bool:
    return unsafe_reason(item, patient) is None


def legacy_patient(conditions: Collection[str], needs: Collection[str] = ()) -> Patient:
    """A patient known only by condition concepts (callers that hold no conversation)."""
    return Patient(frozenset(conditions), frozenset(needs))
