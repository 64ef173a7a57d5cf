"""Identifiers shaped like LiveKit's (a type prefix, an underscore, a random suffix)."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    # LiveKit uses a 12-character short UUID; clients only care about the prefix and uniqueness.
    return f"{prefix}_{secrets.token_urlsafe(9).replace('-', 'x').replace('_', 'y')}"


def now_ms() -> int:
    return int(time.time() * 1000)
