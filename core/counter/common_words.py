"""Everyday Portuguese words the speech-to-text repair must never "correct" into a medical word.

A one-letter repair is only tried on words outside the vocabulary and outside this list, so the
list holds the frequent words one edit away from a symptom ("forte"/"corte", "contas"/"costas",
"copo"/"corpo", "olha"/"olho", "pressa"/"pressão") and the ordinary words of a counter conversation.
"""

from __future__ import annotations

from pathlib import Path

_FILE = Path(__file__).parent / "data" / "common_words.txt"
COMMON_WORDS: frozenset[str] = frozenset(
    word for line in _FILE.read_text(encoding="utf-8").splitlines() if not line.startswith("#") for word in line.split()
)
