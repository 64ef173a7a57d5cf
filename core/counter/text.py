"""Portuguese-aware text matching: normalization, light singularization, phrases with fillers, negation.

Speech-to-text output is informal and inconsistent ("tô com dor de cabeça", "to com dores de cabeca"),
so matching works on normalized tokens: lower case, no accents, plurals folded to the singular,
spoken contractions unified ("pra", "tô"). Clause punctuation and contrastive words become boundary
tokens, which is what limits how far a negation reaches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BOUNDARY = "|"
# Contrast starts a new clause: in "não tenho febre, mas a garganta dói" the negation stops at "mas".
_CONTRAST = frozenset({"mas", "porem", "entretanto", "contudo", "agora", "so", "apenas", "somente", "exceto"})
_NEGATORS = frozenset({"nao", "nem", "nunca", "nenhum", "nenhuma", "nada", "sem", "jamais"})
# "sem" negates only what follows closely ("sem febre"), not a whole clause ("tosse sem parar e febre").
_SHORT_NEGATORS = frozenset({"sem"})
_NEG_WINDOW = 6
_SHORT_NEG_WINDOW = 2
# Said after a symptom, these mean it is over: "a febre já passou".
_RESOLVED = frozenset({"passou", "sumiu", "acabou", "parou", "melhorou"})
_PRONOUNS = frozenset({"ela", "ele", "eu", "elas", "eles"})
_HAVE = frozenset({"tem", "tenho", "to", "ta", "sinto", "senti", "tive", "teve", "sente"})
_PERSISTS = frozenset({"passa", "baixa", "para", "melhora", "sai", "some", "cede", "vai", "acaba"})
# Uncertainty is not denial: "não sei se estou grávida" must keep the condition (safety first).
_UNCERTAIN = (("nao", "sei", "se"), ("nao", "tenho", "certeza"), ("sera", "que"))
_SPOKEN = {
    "para": "pra",
    "pro": "pra",
    "pros": "pra",
    "pras": "pra",
    "prum": "pra",
    "pruma": "pra",
    "estou": "to",
    "tou": "to",
    "esta": "ta",
    "estava": "tava",
    "voce": "vc",
    "ce": "vc",
    "nãum": "nao",
    "num": "nao",
    "n": "nao",
    "cum": "com",
    "ta": "ta",
}
_IRREGULAR = {
    "gases": "gas",
    "meses": "mes",
    "vezes": "vez",
    "crises": "crise",
    "dores": "dor",
    "pes": "pe",
    "mais": "mais",
    "tres": "tres",
    "herpes": "herpes",
    "costas": "costas",
    "nos": "nos",
    "virus": "virus",
    "lapis": "lapis",
    "pais": "pais",
    "atras": "atras",
    "gas": "gas",
    "mes": "mes",
    "pus": "pus",
}
_TOKEN = re.compile(r"[a-z0-9]+|[.,;:!?]")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def singular(token: str) -> str:
    """Fold a Portuguese plural to its singular; exact enough when both sides are folded the same way."""
    if token in _IRREGULAR:
        return _IRREGULAR[token]
    if len(token) <= 3 or not token.endswith("s") or token.endswith(("ss", "us", "is")) or token.isdigit():
        return token
    for suffix, repl in (("oes", "ao"), ("aes", "ao"), ("ns", "m"), ("ores", "or"), ("zes", "z")):
        if token.endswith(suffix):
            return token[: -len(suffix)] + repl
    if len(token) > 4 and token.endswith("ais"):
        return token[:-3] + "al"
    if len(token) > 4 and token.endswith("eis"):
        return token[:-3] + "el"
    return token[:-1]


def tokens(text: str) -> list[str]:
    """Normalized tokens; clause punctuation and contrastive words become ``BOUNDARY``."""
    out: list[str] = []
    for raw in _TOKEN.findall(strip_accents(text.lower()).replace("-", " ")):
        if raw in ".,;:!?":
            out.append(BOUNDARY)
            continue
        tok = _SPOKEN.get(raw, raw)
        if tok in _CONTRAST:
            out.append(BOUNDARY)
        out.append(singular(tok))
    return out


def normalize(text: str) -> str:
    return " ".join(t for t in tokens(text) if t != BOUNDARY)


@dataclass(frozen=True, slots=True)
class Match:
    concept: str
    start: int  # token span [start, end)
    end: int
    negated: bool


class PhraseMatcher:
    """Finds concept phrases in token lists, longest phrase first, allowing a few filler words."""

    def __init__(self, vocab: Mapping[str, Iterable[str]], *, max_gap: int = 2) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for concept, phrases in vocab.items():
            for phrase in phrases:
                self.add(concept, phrase)
        self._max_gap = max_gap

    def add(self, concept: str, phrase: str) -> None:
        toks = tuple(t for t in tokens(phrase) if t != BOUNDARY)
        if not toks:
            return
        entries = self._by_first.setdefault(toks[0], [])
        if (toks, concept) not in entries:
            entries.append((toks, concept))
            entries.sort(key=lambda e: -len(e[0]))

    def _match_at(self, toks: list[str], i: int, phrase: tuple[str, ...]) -> int | None:
        """End index of ``phrase`` starting at ``i`` (fillers allowed, never across a boundary)."""
        pos = i + 1
        for want in phrase[1:]:
            gap = 0
            while pos < len(toks) and toks[pos] != want:
                if toks[pos] == BOUNDARY or gap >= self._max_gap:
                    return None
                gap += 1
                pos += 1
            if pos >= len(toks):
                return None
            pos += 1
        return pos

    def find(self, toks: list[str]) -> list[Match]:
        candidates: list[tuple[int, int, int, str]] = []  # (-phrase length, start, end, concept)
        for i, tok in enumerate(toks):
            for phrase, concept in self._by_first.get(tok, ()):
                end = self._match_at(toks, i, phrase)
                if end is not None:
                    candidates.append((-len(phrase), i, end, concept))
        candidates.sort()
        taken: list[tuple[int, int]] = []
        found: list[Match] = []
        for _neg_len, start, end, concept in candidates:
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            found.append(Match(concept, start, end, is_negated(toks, start, end)))
        found.sort(key=lambda m: m.start)
        return found


def is_negated(toks: list[str], start: int, end: int) -> bool:
    """Whether the phrase at ``toks[start:end]`` is denied ("não tenho febre", "sem tosse", "a febre passou")."""
    clause_start = start
    while clause_start > 0 and toks[clause_start - 1] != BOUNDARY:
        clause_start -= 1
    before = toks[max(clause_start, start - _NEG_WINDOW) : start]
    for k, tok in enumerate(before):
        if tok not in _NEGATORS:
            continue
        if tok in _SHORT_NEGATORS and len(before) - k > _SHORT_NEG_WINDOW:
            continue
        return not any(tuple(before[k : k + len(u)]) == u for u in _UNCERTAIN)
    after = toks[end : end + 3]
    # "febre não" and "febre ela não tem" deny; "febre que não passa" does not.
    if after[:1] == ["nao"] and (len(after) < 2 or after[1] == BOUNDARY or after[1] not in _PERSISTS):
        return True
    if len(after) > 2 and after[0] in _PRONOUNS and after[1] == "nao" and after[2] in _HAVE:
        return True
    for tok in after:
        if tok == BOUNDARY:
            break
        if tok in _RESOLVED:
            return True
    return False
