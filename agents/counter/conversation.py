"""What the counter conversation has established so far: needs, conditions, requested products.

Who said it matters. The customer's own words set needs ("tô com tosse") and conditions ("sou
hipertenso"). The clerk's questions ("tá com febre?") set nothing until the customer answers ("tô",
"não"). The clerk's statements never create needs (the clerk talks about products all day), but the
conditions they state are kept: for safety, a mentioned risk is a risk whoever said it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from agents.counter.utterance import Reading, medicine_keys, read_utterance
from core.counter.catalog import CatalogIndex
from core.counter.lexicon import IMPLIES
from core.counter.patient import PatientContext
from core.counter.text import Match, is_negated, tokens

Role = Literal["atendente", "cliente"]
_YES = frozenset({"sim", "tenho", "to", "ta", "isso", "uhum", "aham", "exato", "sou", "estou", "tive", "tomo", "e"})
_NO = frozenset({"nao", "nem", "negativo", "nada", "nunca"})
_QUESTION_START = frozenset(
    {"tem", "ta", "vc", "o", "a", "e", "sente", "tomou", "toma", "esta", "ja", "algum", "alguma"}
)
_AGE_QUESTIONS = {("quanto", "ano"): "ano", ("que", "idade"): "ano", ("qual", "idade"): "ano",
                  ("quanto", "mes"): "mes"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Segment:
    """One transcribed utterance, as the speech-to-text stage hands it over."""

    speaker_identity: str
    role: Role
    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class TurnDelta:
    new_needs: frozenset[str] = frozenset()
    removed_needs: frozenset[str] = frozenset()
    new_conditions: frozenset[str] = frozenset()
    removed_conditions: frozenset[str] = frozenset()
    new_requests: frozenset[str] = frozenset()
    # Needs said again in this turn that were active already: worth answering if nothing answered them.
    restated_needs: frozenset[str] = frozenset()
    rx_request: bool = False  # the customer asked for a prescription-only product: suggest nothing now
    new_medicines: frozenset[str] = frozenset()
    language: str = "pt"
    unsupported: bool = False  # a language the vocabulary does not cover: reported, never guessed

    @property
    def changed(self) -> bool:
        return bool(
            self.new_needs
            or self.removed_needs
            or self.new_conditions
            or self.removed_conditions
            or self.new_requests
            or self.restated_needs
            or self.new_medicines
        )


@dataclass
class _Pending:
    needs: set[str] = field(default_factory=set)
    conditions: set[str] = field(default_factory=set)


class ConversationState:
    """Folds segments into active needs/conditions; ``add`` tells what each segment changed."""

    def __init__(self, index: CatalogIndex, *, window: int = 12, max_turns: int = 200) -> None:
        self.index = index
        self.window_size = window
        self.max_turns = max(max_turns, window)
        self.turns: list[Segment] = []
        self.needs: dict[str, int] = {}  # active need -> turn index of its latest mention
        self.conditions: dict[str, int] = {}
        self.denied: set[str] = set()
        self.requests: dict[str, int] = {}  # ingredient key -> turn index
        self.patient = PatientContext()
        self.medicines: dict[str, str] = {}  # what the patient takes: ingredient or class key -> words said
        self.unsupported_turns = 0
        self._pending: _Pending | None = None
        self._age_question: str | None = None

    def window(self) -> list[Segment]:
        return self.turns[-self.window_size :]

    def _trim(self) -> None:
        """Forget the oldest half of a very long conversation, and what was said only there."""
        drop = len(self.turns) - self.max_turns // 2
        self.turns = self.turns[drop:]
        for table in (self.needs, self.conditions, self.requests):
            for concept, turn in list(table.items()):
                if turn < drop:
                    del table[concept]
                else:
                    table[concept] = turn - drop

    def add(self, seg: Segment) -> TurnDelta:
        if len(self.turns) >= self.max_turns:
            self._trim()
        self.turns.append(seg)
        turn = len(self.turns) - 1
        age_question, self._age_question = self._age_question, None
        asked = self._pending is not None and "gravidez" in self._pending.conditions
        pregnant = "gravidez" in self.conditions or asked
        r = read_utterance(
            self.index,
            seg.text,
            age_question=age_question if seg.role == "cliente" else None,
            pregnant_context=pregnant and seg.role == "cliente",
        )
        toks, needs, cond_found = r.toks, r.needs, r.conditions
        before_needs, before_conds, before_req = set(self.needs), set(self.conditions), set(self.requests)
        before_meds = set(self.medicines)
        is_question = seg.text.rstrip().endswith("?") or (bool(toks) and toks[0] in _QUESTION_START and "?" in seg.text)
        if seg.role == "atendente":
            self._on_clerk(needs, cond_found, turn, question=is_question)
            self._age_question = next((u for k, u in _AGE_QUESTIONS.items() if _has(toks, k)), None)
        else:
            self._on_customer(toks, needs, cond_found, r.requested, turn)
            self._on_patient(r)
        new_needs = set(self.needs) - before_needs
        restated: set[str] = set()
        if seg.role == "cliente":
            said = {m.concept for m in needs if not m.negated and m.concept in self.needs}
            restated = said & before_needs
            if set(self.conditions) - before_conds:
                # "meu filho de 5 anos tá com febre": a need restated with new risk information is a new case.
                new_needs |= said
        unsupported = seg.role == "cliente" and not r.understood
        self.unsupported_turns += unsupported
        return TurnDelta(
            new_needs=frozenset(new_needs),
            removed_needs=frozenset(before_needs - set(self.needs)),
            new_conditions=frozenset(set(self.conditions) - before_conds),
            removed_conditions=frozenset(before_conds - set(self.conditions)),
            new_requests=frozenset(set(self.requests) - before_req),
            restated_needs=frozenset(restated - new_needs),
            rx_request=seg.role == "cliente" and r.rx_request,
            new_medicines=frozenset(set(self.medicines) - before_meds),
            language=r.language,
            unsupported=unsupported,
        )

    def _on_patient(self, r: Reading) -> None:
        self.patient.update(r.patient)
        for key, said in r.taken.items():
            self.medicines.setdefault(key, said)
        self.patient.medicines = dict(self.medicines)

    def medicine_keys(self) -> frozenset[str]:
        """What the patient takes, as ingredient and class keys (a catalog's interactions name either)."""
        out: set[str] = set()
        for key in self.medicines:
            out |= medicine_keys(key)
        return frozenset(out)

    def _set(self, table: dict[str, int], concept: str, negated: bool, turn: int) -> None:
        if negated:
            table.pop(concept, None)
            if table is self.needs:
                self.denied.add(concept)
        else:
            table[concept] = turn
            self.denied.discard(concept)

    def _on_clerk(self, needs: list[Match], conds: dict[str, bool], turn: int, *, question: bool) -> None:
        # A question ("tá com febre?") or a summary ("tosse seca, então") waits for the customer's "sim".
        pending = _Pending({m.concept for m in needs if not m.negated}, {c for c, neg in conds.items() if not neg})
        self._pending = pending if pending.needs or pending.conditions else None
        if question:
            return
        for concept, negated in conds.items():
            if not negated:  # the clerk may state a risk; only the customer can deny one
                self._set(self.conditions, concept, False, turn)

    def _on_customer(
        self, toks: list[str], needs: list[Match], conds: dict[str, bool], requested: list[Match], turn: int
    ) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and toks:
            first = toks[0]
            answer = True if first in _YES else False if first in _NO else None
            if answer is not None:
                for concept in pending.needs:
                    self._set(self.needs, concept, not answer, turn)
                for concept in pending.conditions:
                    self._set(self.conditions, concept, not answer, turn)
        for m in needs:
            self._set(self.needs, m.concept, m.negated, turn)
            if not m.negated:
                for implied in IMPLIES.get(m.concept, ()):
                    self._set(self.needs, implied, False, turn)
        for concept, negated in conds.items():
            self._set(self.conditions, concept, negated, turn)
        for m in requested:
            if not m.negated:
                self.requests[m.concept] = turn

    def texts_for(self, concepts: set[str], *, limit: int = 300) -> str:
        """The customer's own words behind ``concepts`` (seed 001's ``transcricao_base``)."""
        turns = sorted(
            {self.needs[c] for c in concepts if c in self.needs}
            | {self.requests[c] for c in concepts if c in self.requests}
        )
        if not turns:
            turns = [len(self.turns) - 1]
        text = " … ".join(self.turns[i].text.strip() for i in turns[-3:])
        return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def _has(toks: list[str], words: tuple[str, ...]) -> bool:
    return all(w in toks for w in words)


__all__ = ["ConversationState", "Role", "Segment", "TurnDelta", "is_negated", "tokens"]
