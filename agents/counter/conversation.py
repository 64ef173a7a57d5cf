"""What the counter conversation has established so far: needs, conditions, requested products.

Who said it matters. The customer's own words set needs ("tô com tosse") and conditions ("sou
hipertenso"). The clerk's questions ("tá com febre?") set nothing until the customer answers ("tô",
"não"). The clerk's statements never create needs (the clerk talks about products all day), but the
conditions they state are kept: for safety, a mentioned risk is a risk whoever said it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from core.counter.catalog import CatalogIndex
from core.counter.lexicon import IMPLIES, INGREDIENT_CLASSES
from core.counter.text import BOUNDARY, Match, is_negated, normalize, tokens

Role = Literal["atendente", "cliente"]
_ALLERGY_CUES = frozenset({"alergico", "alergica", "alergia", "reacao", "intolerancia"})
_CANT_TAKE = (("nao", "posso", "tomar"), ("nao", "posso", "usar"), ("nao", "pode", "tomar"), ("nao", "tomo"))
_YES = frozenset({"sim", "tenho", "to", "ta", "isso", "uhum", "aham", "exato", "sou", "estou", "tive", "tomo", "e"})
_NO = frozenset({"nao", "nem", "negativo", "nada", "nunca"})
_QUESTION_START = frozenset(
    {"tem", "ta", "vc", "o", "a", "e", "sente", "tomou", "toma", "esta", "ja", "algum", "alguma"}
)
_NUMBERS = {
    "um": 1, "uma": 1, "dois": 2, "dua": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8,
    "nove": 9, "dez": 10, "onze": 11, "doze": 12, "treze": 13, "quatorze": 14, "catorze": 14, "quinze": 15,
    "dezesseis": 16, "dezessete": 17,
}  # fmt: skip
# "meu filho de 5 anos", "ela tem 8 anos", "de 7 meses": an age, not "faz 2 anos que tenho rinite".
_AGE = re.compile(r"\b(?:de|tem|com)\s+(\d{1,2}|[a-z]+)\s+(ano|mes|mese|mesinho)\b")


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

    @property
    def changed(self) -> bool:
        return bool(
            self.new_needs or self.removed_needs or self.new_conditions or self.removed_conditions or self.new_requests
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
        self._pending: _Pending | None = None

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
        toks = tokens(seg.text)
        needs = self.index.needs_matcher.find(toks)
        conditions = self.index.conditions_matcher.find(toks)
        ingredients = self.index.ingredients_matcher.find(toks)
        allergies = {m for m in ingredients if _allergy_context(toks, m)}
        # "sou alérgico a dipirona" states a risk, it is not a request for an antiallergic.
        needs = [n for n in needs if not (n.concept == "alergia" and any(0 <= a.start - n.end <= 2 for a in allergies))]
        # "tenho gastrite e dor de dente": a word that is both a need and a condition, said next to
        # another need, is the background (a risk), not what the customer came for.
        both = [n for n in needs if any(n.start < c.end and c.start < n.end for c in conditions)]
        if both and len(both) < len(needs):
            needs = [n for n in needs if n not in both]
        cond_found = {m.concept: m.negated for m in conditions}
        for a in allergies:
            for key in _allergy_keys(a.concept):
                cond_found["alergia:" + key] = False
        age = _age_years(normalize(seg.text))
        if age is not None:
            cond_found["crianca"] = age >= 12  # "negated" when the person is 12 or older

        before_needs, before_conds, before_req = set(self.needs), set(self.conditions), set(self.requests)
        is_question = seg.text.rstrip().endswith("?") or (bool(toks) and toks[0] in _QUESTION_START and "?" in seg.text)
        if seg.role == "atendente":
            self._on_clerk(needs, cond_found, turn, question=is_question)
        else:
            self._on_customer(toks, needs, cond_found, [m for m in ingredients if m not in allergies], turn)
        new_needs = set(self.needs) - before_needs
        if set(self.conditions) - before_conds and seg.role == "cliente":
            # "meu filho de 5 anos tá com febre": a need restated with new risk information is a new case.
            new_needs |= {m.concept for m in needs if not m.negated and m.concept in self.needs}
        return TurnDelta(
            new_needs=frozenset(new_needs),
            removed_needs=frozenset(before_needs - set(self.needs)),
            new_conditions=frozenset(set(self.conditions) - before_conds),
            removed_conditions=frozenset(before_conds - set(self.conditions)),
            new_requests=frozenset(set(self.requests) - before_req),
        )

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


def _allergy_context(toks: list[str], m: Match) -> bool:
    before = toks[max(0, m.start - 4) : m.start]
    if BOUNDARY in before:
        before = before[len(before) - before[::-1].index(BOUNDARY) :]
    if _ALLERGY_CUES & set(before):
        return True
    return any(tuple(before[k : k + len(c)]) == c for c in _CANT_TAKE for k in range(len(before)))


def _allergy_keys(ingredient: str) -> set[str]:
    keys = {ingredient}
    for cls, members in INGREDIENT_CLASSES.items():
        if normalize(cls) == ingredient:
            keys.update(normalize(x) for x in members)
    return keys


def _age_years(normalized: str) -> float | None:
    found = _AGE.search(normalized)
    # "grávida de cinco meses" is how long the pregnancy is, not someone's age.
    if not found or normalized[: found.start()].split()[-1:] in (["gravida"], ["gestante"], ["gravidez"]):
        return None
    raw, unit = found.groups()
    value = int(raw) if raw.isdigit() else _NUMBERS.get(raw)
    if value is None:
        return None
    return value / 12 if unit.startswith("mes") else float(value)


__all__ = ["ConversationState", "Role", "Segment", "TurnDelta", "is_negated"]
