"""The labelled counter dialogues and how a recommender is scored on them.

A dialogue file (``tests/counter/dialogues/*.txt``)::

    # Gripe em hipertenso: nada com fenilefrina
    esperado: Produto A | Produto B      (acceptable products, or "nenhum")
    condicoes: hipertensao               (optional: conditions that make products unsafe)
    inseguro: Produto C                  (optional: products that must never appear)
    cliente: ...
    atendente: ...

Precision: suggestions that are acceptable / all suggestions (any suggestion in a "nenhum" dialogue
is wrong). Recall: dialogues with an expected product where an acceptable one was suggested.
Unsafe: suggestions that are prescription-only, contraindicated by the labelled conditions, or listed
as ``inseguro`` - judged from the labels and the catalog, never from the recommender's own rules.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from agents.counter.assistant import CounterAssistant
from agents.counter.conversation import Role, Segment
from core.counter.catalog import CatalogIndex


@dataclass(frozen=True)
class Dialogue:
    name: str
    title: str
    expected: frozenset[str]  # empty: no product is expected
    conditions: frozenset[str]
    unsafe: frozenset[str]
    turns: tuple[tuple[Role, str], ...]

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
        elif key in ("cliente", "atendente"):
            turns.append(("cliente" if key == "cliente" else "atendente", value.strip()))
        else:
            raise ValueError(f"{name}: unknown key {key!r}")
    if not turns:
        raise ValueError(f"{name}: no turns")
    return Dialogue(name, title, expected, conditions, unsafe, tuple(turns))


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
    if item.product.prescription_required:
        return True
    for cond in dialogue.conditions:
        if cond.startswith("alergia:") and cond.removeprefix("alergia:") in item.ingredients:
            return True
        if cond in item.contraindications:
            return True
    return False


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
