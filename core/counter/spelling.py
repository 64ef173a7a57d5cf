"""Repairs what speech-to-text does to counter words before they are matched.

Transcripts arrive without accents, with a letter dropped or swapped ("tose seca", "escorendo",
"febri"), with a word split ("para cetamol", "neo saldina") or joined ("dordecabeca"), and with
diminutives ("narizinho", "tossinha", "aninhos"). ``repair`` rewrites the text on the words of the
counter vocabulary only: a word is changed when it is not a known word (vocabulary or
``COMMON_WORDS``) and exactly one vocabulary word is close enough - the same sound
("cabesa"/"cabeca"), one edit for short words, two for long ones, and the same first sound (a
different first letter is more often a different word: "forte"/"corte"). Everything is cached per
word, so an utterance costs microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from core.counter.common_words import COMMON_WORDS
from core.counter.text import singular, strip_accents

_WORD = re.compile(r"[a-z0-9]+|[^a-z0-9\s]")
_DIMINUTIVES = (("zinho", ""), ("zinha", ""), ("quinho", "co"), ("quinha", "ca"), ("guinho", "go"),
                ("guinha", "ga"), ("inho", "o"), ("inha", "a"), ("inho", "e"), ("inha", "e"), ("inho", ""),
                ("inha", ""))  # fmt: skip
_PHONETIC = (("ss", "s"), ("ç", "s"), ("ce", "se"), ("ci", "si"), ("ch", "x"), ("sh", "x"), ("lh", "li"),
             ("nh", "ni"), ("qu", "k"), ("gu", "g"), ("rr", "r"), ("z", "s"), ("y", "i"), ("w", "v"),
             ("h", ""))  # fmt: skip


def phonetic(word: str) -> str:
    """A rough Brazilian Portuguese sound key: "cabessa", "cabesa" and "cabeca" share one."""
    key = word
    for a, b in _PHONETIC:
        key = key.replace(a, b)
    key = re.sub(r"(.)\1+", r"\1", key)
    if key.endswith("i") and len(key) > 3:  # "febri", "dengui": a final unstressed e sounds like i
        key = key[:-1] + "e"
    if key.endswith("u") and len(key) > 3:  # "catarru"
        key = key[:-1] + "o"
    return key.replace("c", "k")


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class SpellingRepair:
    """``repair(text)`` for one vocabulary (the counter's lexicons, built once)."""

    def __init__(self, vocabulary: Iterable[str], *, protected: Iterable[str] = COMMON_WORDS) -> None:
        self.vocab = {w for w in vocabulary if w.isalpha() and len(w) >= 2}
        self.known = self.vocab | set(protected)
        self._by_sound: dict[str, set[str]] = {}
        self._by_delete: dict[str, set[str]] = {}
        for w in self.vocab:
            if len(w) < 4:
                continue
            self._by_sound.setdefault(phonetic(w), set()).add(w)
            for d in _deletes(w, 2 if len(w) >= 8 else 1):
                self._by_delete.setdefault(d, set()).add(w)
        self.word = lru_cache(maxsize=20000)(self._word)

    def is_known(self, word: str) -> bool:
        return word in self.known or singular(word) in self.known or word.isdigit()

    def _word(self, word: str) -> str:
        """The vocabulary word ``word`` stands for, or ``word`` itself."""
        if self.is_known(word) or len(word) < 4 or not word.isalpha():
            return word
        for suffix, repl in _DIMINUTIVES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                base = word[: -len(suffix)] + repl
                if base in self.vocab or singular(base) in self.vocab:
                    return base
                if word.endswith("s") is False and (base + "s") in self.vocab:
                    return base
        if word.endswith("s") and word[:-1].endswith(("inho", "inha")):  # "aninhos", "tossinhas"
            fixed = self.word(word[:-1])
            if fixed != word[:-1]:
                return fixed + ("s" if not fixed.endswith("s") else "")
        sound = self._by_sound.get(phonetic(word), set())
        if len(sound) == 1:
            return next(iter(sound))
        limit = 2 if len(word) >= 8 else 1
        found: dict[str, int] = {}
        for d in _deletes(word, limit):
            for cand in self._by_delete.get(d, ()):
                if cand not in found and phonetic(cand)[0] == phonetic(word)[0]:
                    dist = _distance(word, cand, limit)
                    if dist <= limit:
                        found[cand] = dist
        if not found:
            return word
        best = min(found.values())
        winners = [w for w, dist in found.items() if dist == best]
        return winners[0] if len(winners) == 1 else word

    def _split(self, word: str) -> list[str] | None:
        """ "dordecabeca" -> ["dor", "de", "cabeca"]: known words only, fewest pieces (at most 3)."""
        n = len(word)
        best: list[str] | None = None
        for i in range(2, n - 1):
            a, rest = word[:i], word[i:]
            if a not in self.known:
                continue
            if rest in self.vocab and len(rest) >= 3:
                return [a, rest]
            for k in range(2, len(rest) - 1):
                b, c = rest[:k], rest[k:]
                if b in self.known and c in self.vocab and len(c) >= 3 and best is None:
                    best = [a, b, c]
        return best

    def repair(self, text: str) -> str:
        words = _WORD.findall(strip_accents(text.lower()))
        out: list[str] = []
        i = 0
        while i < len(words):
            w = words[i]
            nxt = words[i + 1] if i + 1 < len(words) else ""
            alone = w if self.is_known(w) else self.word(w)
            # A split word ("para cetamol", "neo saldina"): joined only when neither half is a known
            # word on its own terms, or the join is exactly a vocabulary word.
            split = not self.is_known(nxt) or (self.is_known(w) and (w + nxt) in self.vocab)
            if w.isalpha() and nxt.isalpha() and min(len(w), len(nxt)) >= 3 and alone == w and split:
                joined = w + nxt
                exact = joined in self.vocab
                fuzzy = not exact and len(joined) >= 7 and self.word(nxt) == nxt
                fixed = joined if exact else self.word(joined) if fuzzy else joined
                if fixed in self.vocab and len(fixed) >= 6:  # "para cetamol", "escor rendo"
                    out.append(fixed)
                    i += 2
                    continue
            if w.isalpha() and not self.is_known(w):
                fixed = alone
                if fixed == w and len(w) >= 6:
                    pieces = self._split(w)
                    if pieces:
                        out.extend(pieces)
                        i += 1
                        continue
                w = fixed
            out.append(w)
            i += 1
        return " ".join(out)
