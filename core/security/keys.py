"""API keys: device keys (``bk_``, seed 001) and publishable browser keys (``pk_``).

Format: ``bk_`` + 12 hex characters (the lookup prefix, stored in clear) + 48 hex characters (secret).
Only ``sha256(whole key)`` is stored; 240 random bits make a slow hash unnecessary, and a fast one keeps
`/token` cheap. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

KeyKind = Literal["device", "publishable"]
KEY_PREFIXES: dict[KeyKind, str] = {"device": "bk_", "publishable": "pk_"}
_KEY = re.compile(r"^(bk|pk)_([0-9a-f]{12})([0-9a-f]{48})$")


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once, never stored
    prefix: str  # "bk_" + 12 hex: public, identifies the key in lists and lookups
    key_hash: bytes


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode("ascii")).digest()


def new_key(kind: KeyKind) -> NewKey:
    key = KEY_PREFIXES[kind] + secrets.token_hex(6) + secrets.token_hex(24)
    return NewKey(key=key, prefix=key[:15], key_hash=hash_key(key))


def parse_key(key: str) -> tuple[KeyKind, str] | None:
    """(kind, prefix) of a well-formed key, else None (no database lookup for junk)."""
    m = _KEY.match(key)
    if m is None:
        return None
    kind: KeyKind = "device" if m.group(1) == "bk" else "publishable"
    return kind, key[:15]


def key_matches(key: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)
