"""Credential lookups cached per API process, dropped the moment they change anywhere (issue 20.4).

`POST /token` authenticates every request with a key (``bk_`` device key, ``pk_`` publishable key). Reading
the key's row for each one would put a database round trip on the hottest route, so each process keeps
what it read (key -> organization, kind, device, origins, revoked) in memory, and stays correct with
several processes this way:

- Every change that matters (a key revoked, rotated, re-scoped or deleted; a device revoked; a solution
  or an organization's client id changed) is announced by triggers on the ``escuta_credentials`` channel
  (migration 0111). Each process keeps one LISTEN connection and drops the entry when the change commits,
  whichever process or tool made it; the process that revoked waits until it heard its own notification
  before answering, so by then every listening process has been sent it too.
- The cache is only used while that connection is up: when it drops, everything cached is cleared and
  lookups go to the database until it is back (reconnected with backoff). No listener (no database URL,
  or a pooler that does not pass LISTEN through) means no caching, never stale answers.
- A lookup that raced a change is not kept: entries are stored only if no notification arrived while
  the row was being read (a generation counter).
- A short TTL stays as a safety net (a notification lost in a way the connection did not notice).

Entries are keyed by the key's public prefix and carry the organization the database said owns it, and
the secret is checked against the stored hash on every request: a cached entry can never answer for
another organization's key. Solution profiles and client ids (control_api/services/rooms.py) are keyed
by organization, and dropped through :meth:`CredentialCache.on_change`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from control_api.services.listener import ReconnectingListener
from db import live

log = logging.getLogger("escuta.api.credentials")

KEY_CACHE_SECONDS = 30.0  # safety net only: changes arrive by NOTIFY
CACHE_MAX_ENTRIES = 10_000
HEARD_WITHIN = 2.0  # how long a revoking request waits for its own notification

Change = dict[str, Any]  # a notification's payload: {"t": "key", "prefix"} | {"t": "solution", ...} | ...


@dataclass
class CachedKey:
    key_id: UUID
    org_id: UUID
    kind: str
    device_id: UUID | None
    key_hash: bytes
    allowed_origins: tuple[str, ...]
    revoked: bool
    fetched: float


class CredentialCache:
    def __init__(self, dsn: str | None) -> None:
        self.dsn = dsn
        self._keys: dict[str, CachedKey] = {}
        self._generation = 0
        self._listening = False
        self.listener = (
            ReconnectingListener(
                dsn,
                (live.CREDENTIALS_CHANNEL,),
                self._on_notify,
                name="credential-cache",
                log=log,
                on_connected=self._on_connected,
                on_lost=self._on_lost,
            )
            if dsn
            else None
        )
        self._waiting: dict[str, list[asyncio.Event]] = {}
        self._on_change: list[Callable[[Change | None], None]] = []

    # --- the cache -----------------------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        return self._listening

    @property
    def generation(self) -> int:
        """Read before a lookup, handed to :meth:`put`: a change heard in between keeps the entry out."""
        return self._generation

    def get(self, prefix: str, now: float) -> CachedKey | None:
        entry = self._keys.get(prefix)
        if entry is None or not self._listening or now - entry.fetched > KEY_CACHE_SECONDS:
            return None
        return entry

    def put(self, prefix: str, entry: CachedKey, generation: int) -> None:
        if not self._listening or generation != self._generation:
            return
        if len(self._keys) >= CACHE_MAX_ENTRIES:
            self._keys.clear()  # crude but bounded: a flood of distinct keys only costs lookups
        self._keys[prefix] = entry

    def forget(self, prefix: str) -> None:
        self._keys.pop(prefix, None)
        self._generation += 1

    def on_change(self, callback: Callable[[Change | None], None]) -> None:
        """Call ``callback`` with each change heard (None: everything may have changed, drop it all)."""
        self._on_change.append(callback)

    async def revoked(self, prefixes: Iterable[str]) -> None:
        """After this process committed a revocation: drop the keys, and wait (briefly) until the
        notification came back, so every other listening process has been sent it as well."""
        events = []
        for prefix in prefixes:
            self.forget(prefix)
            if self._listening:
                event = asyncio.Event()
                self._waiting.setdefault(prefix, []).append(event)
                events.append((prefix, event))
        if not events:
            return
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait() for _, e in events)), HEARD_WITHIN)
        except TimeoutError:
            log.warning("credential change not heard back within %.0f s", HEARD_WITHIN)
        finally:
            for prefix, event in events:
                waiting = self._waiting.get(prefix, [])
                if event in waiting:
                    waiting.remove(event)
                if not waiting:
                    self._waiting.pop(prefix, None)

    def _clear(self) -> None:
        self._keys.clear()
        self._generation += 1
        for callback in self._on_change:
            callback(None)

    # --- the listener ----------------------------------------------------------------------------------

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()

    async def wait_ready(self, within: float = 10.0) -> None:
        if self.listener is None:
            raise TimeoutError("no database URL: the credential cache never listens")
        await self.listener.wait_ready(within)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        self._generation += 1
        try:
            change = json.loads(str(payload))
        except ValueError:
            change = None
        if not isinstance(change, dict):
            self._clear()
            return
        if change.get("t") == "key":
            prefix = str(change.get("prefix"))
            self._keys.pop(prefix, None)
            for event in self._waiting.get(prefix, ()):
                event.set()
        for callback in self._on_change:
            callback(change)

    def _on_connected(self) -> None:
        self._clear()  # whatever was read before the LISTEN was in place is not trusted
        self._listening = True

    def _on_lost(self) -> None:
        self._listening = False
        self._clear()

    async def aclose(self) -> None:
        self._listening = False
        if self.listener is not None:
            await self.listener.aclose()
        self._clear()


def credential_cache(state: Any) -> CredentialCache:
    """The app's cache (created on first use; listening once the app's lifespan started it)."""
    cache: CredentialCache | None = getattr(state, "credential_cache", None)
    if cache is None:
        cache = CredentialCache(state.settings.db.url)
        state.credential_cache = cache
    return cache
