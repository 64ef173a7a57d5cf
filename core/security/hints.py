"""How much of a stored secret an answer may show: enough to recognise it, never more than a quarter of it.

A hint of "first 3 and last 4 characters" is 44 % of a 16-character key; a short key's hint shrinks
instead (issue 14.7), down to `…` alone for keys under 8 characters.
"""

from __future__ import annotations

HIDDEN = "…"


def secret_hint(secret: str, *, head: int = 3, tail: int = 4) -> str:
    """Up to ``head`` leading and ``tail`` trailing characters, together at most ``len(secret) // 4``."""
    budget = len(secret) // 4
    shown_tail = min(tail, budget)
    if shown_tail < 2:  # a single character identifies nothing and still leaks one
        return HIDDEN
    shown_head = min(head, budget - shown_tail)
    return f"{secret[:shown_head]}{HIDDEN}{secret[-shown_tail:]}"
