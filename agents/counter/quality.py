"""The labelled counter dialogues and how a recommender is scored on them.

A dialogue file (``tests/counter/dialogues/*.txt``)::

    # Gripe em hipertenso: nada com fenilefrina
    esperado: Produto A | Produto B      (acceptable products, or "nenhum")
    condicoes: hipertensao               (optional: conditions that make products unsafe)
    idade: 2                             (optional: the patient's age in years, 0.5 = six months)
    medicamentos: varfarina              (optional: what the patient takes, ingredients or classes)
    inseguro: Produto C                  (optional: products that must never appear)
    tipo: adversarial                    (optional: a hard case, reported apart)
    cliente: ...
    atendente: ...

Precision: suggestions that are acceptable / all suggestions (any suggestion in a "nenhum" dialogue
is wrong). Recall: dialogues with an expected product where an acceptable one was suggested.
Unsafe: suggestions that are prescription-only, listed as ``inseguro``, contraindicated by the
labelled conditions, below the product's minimum age (an adult-only form for a child of unlabelled
age), not marked ``seguro`` for a labelled pregnancy or breastfeeding, or interacting with a labelled
medicine - judged from the labels and the catalog's data, never by calling the recommender's rules.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from agents.counter.assistant import CounterAssistant
from agents.counter.conversation import Role, Segment
from core.counter.catalog import CatalogIndex
from core.counter.medicines import MEDICINE_CLASSES
from core.counter.text import normalize


@dataclass(frozen=True)
class Dialogue:
    name: str
    title: str
    expected: frozenset[str]  # empty: no product is expected
    conditions: frozenset[str]
    unsafe: frozenset[str]
    turns: tuple[tuple[Role, str], ...]
    age_years: float | None = None
    medicines: frozenset[str] = frozenset()
    adversarial: bool = False

    def segments(self) -> list[Segment]:
        out, t = [], 0.0
        for role, text in self.turns:
            duration = max(1.0, len(text.split()) * 0.35)
            out.append(Segment("atendente-1" if role == "atendente" else "cliente-1", role, text, t, t + duration))
            t += duration + 0.4
        return out


def _items(value: str) -> frozenset[str]:
    parts = [p.strip() for p in value.split("|") if p.strip()]
    return frozenset() if parts in ([], ["nenhum"]) else frozenset(parts)


def parse_dialogue(name: str, text: str) -> Dialogue:
    title, expected, conditions, unsafe = "", frozenset[str](), frozenset[str](), frozenset[str]()
    age: float | None = None
    medicines: frozenset[str] = frozenset()
    adversarial = False
    turns: list[tuple[Role, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            title = title or line.lstrip("# ")
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{name}: not a 'key: value' line: {line[:40]!r}")
        key = key.strip().lower()
        if key == "esperado":
            expected = _items(value)
        elif key == "condicoes":
            conditions = frozenset(c.strip() for c in value.split(",") if c.strip())
        elif key == "inseguro":
            unsafe = _items(value)
        elif key == "idade":
            age = float(value.strip().replace(",", "."))
        elif key == "medicamentos":
            medicines = frozenset(normalize(m) for m in value.split(",") if m.strip())
        elif key == "tipo":
            adversarial = value.strip().lower() == "adversarial"
        elif key in ("cliente", "atendente"):
            turns.append(("cliente" if key == "cliente" else "atendente", value.strip()))
        else:
            raise ValueError(f"{name}: unknown key {key!r}")
    if not turns:
        raise ValueError(f"{name}: no turns")
    return Dialogue(name, title, expected, conditions, unsafe, tuple(turns), age, medicines, adversarial)


def load_dialogues(directory: Path) -> list[Dialogue]:
    return [parse_dialogue(p.stem, p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.txt"))]


@dataclass
class DialogueResult:
    dialogue: Dialogue
    suggested: list[str]
    correct: int
    unsafe: list[str]
    hit: bool


@dataclass
class QualityReport:
    results: list[DialogueResult] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)  # one per utterance fed

    @property
    def suggestions(self) -> int:
        return sum(len(r.suggested) for r in self.results)

    @property
    def precision(self) -> float:
        return sum(r.correct for r in self.results) / self.suggestions if self.suggestions else 1.0

    @property
    def recall(self) -> float:
        expecting = [r for r in self.results if r.dialogue.expected]
        return sum(r.hit for r in expecting) / len(expecting) if expecting else 1.0

    @property
    def unsafe_count(self) -> int:
        return sum(len(r.unsafe) for r in self.results)

    @property
    def unsafe_rate(self) -> float:
        return self.unsafe_count / self.suggestions if self.suggestions else 0.0

    def latency(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        if q == 0.5:
            return statistics.median(self.latencies_ms)
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def unsafe_for(index: CatalogIndex, dialogue: Dialogue, product_name: str) -> bool:
    if product_name in dialogue.unsafe:
        return True
    item = next((i for i in index.items if i.product.name == product_name), None)
    if item is None:
        return True  # a product outside the catalog is never acceptable
    product = item.product
    if product.prescription_required:
        return True
    min_age = item.min_age_months
    if dialogue.age_years is not None and min_age is not None and dialogue.age_years * 12 < min_age - 0.5:
        return True
    if "crianca" in dialogue.conditions and dialogue.age_years is None and (min_age or 0) >= 144:
        return True
    if "gravidez" in dialogue.conditions and product.pregnancy in ("cautela", "contraindicado"):
        return True
    if "amamentacao" in dialogue.conditions and product.breastfeeding in ("cautela", "contraindicado"):
        return True
    for cond in dialogue.conditions:
        if cond.startswith("alergia:") and cond.removeprefix("alergia:") in item.ingredients:
            return True
        if cond == "crianca" and dialogue.age_years is not None and min_age is not None:
            continue  # the labelled age against the product's minimum age, above
        if cond in item.contraindications:
            return True
    taken = set(dialogue.medicines)
    for cls, members in MEDICINE_CLASSES.items():
        if taken & {normalize(m) for m in members}:
            taken.add(normalize(cls))
    return bool(item.interactions & taken)


async def evaluate(
    index: CatalogIndex,
    dialogues: list[Dialogue],
    make_assistant: Callable[[], CounterAssistant | Awaitable[CounterAssistant]],
) -> QualityReport:
    """Feed every dialogue to a fresh assistant and score what it suggested."""
    report = QualityReport()
    for d in dialogues:
        made = make_assistant()
        assistant = made if isinstance(made, CounterAssistant) else await made
        suggested: list[str] = []
        for seg in d.segments():
            outcomes = await assistant.on_segment(seg)
            if seg.role == "cliente":
                report.latencies_ms.append(outcomes[0].latency_ms if outcomes else assistant.last_latency_ms)
            suggested.extend(o.event["produto"] for o in outcomes)
        await assistant.aclose()
        correct = sum(1 for s in suggested if s in d.expected)
        unsafe = [s for s in suggested if unsafe_for(index, d, s)]
        report.results.append(DialogueResult(d, suggested, correct, unsafe, hit=correct > 0))
    return report
