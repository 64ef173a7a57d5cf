"""Abuse limits on login, link codes and `/token`: an in-memory sliding-window counter.

The algorithm is the one the `limits` library calls "sliding window counter" (also Cloudflare's): the
count of the current fixed window plus the previous window's count weighted by how much of it still
overlaps the sliding window. O(1) time and memory per key. We first used `limits` itself; its memory
storage (locks, expiry timers) cost about as much per hit as signing the LiveKit token, which mattered
for `/token`'s throughput, so this is the same idea in ~60 lines.

These counters live in process memory: with several API workers the limit is per worker. That is kept
only for `/token`'s throughput limit (its hot path touches no database). Limits that guard secrets
(login, sign-up, invitations, link codes) use the same algorithm in PostgreSQL, shared by every process:
:class:`db.ratelimit.SharedRateLimiter`.
"""

from __future__ import annotations

import math
import re
import time
from functools import lru_cache

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$")
_PURGE_ABOVE = 100_000  # keys kept before stale ones are swept


class RateLimited(Exception):
    """Over a limit; ``retry_after`` is whole seconds until the next attempt may pass."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"rate limited: {scope}")
        self.scope = scope
        self.retry_after = retry_after


@lru_cache(maxsize=64)
def parse_limit(limit: str) -> tuple[int, float]:
    """``"10/minute"``, ``"5 per hour"``, ``"100/5 minutes"`` → (amount, period in seconds)."""
    m = _LIMIT.match(limit.lower())
    if m is None or int(m.group(1)) < 1:
        raise ValueError(f"not a rate limit: {limit!r} (expected e.g. '10/minute')")
    return int(m.group(1)), float(int(m.group(2) or 1) * _UNITS[m.group(3)])


class RateLimiter:
    def __init__(self) -> None:
        # key -> [start of the current fixed window, previous window's count, current window's count]
        self._windows: dict[tuple[str, ...], list[float]] = {}

    def _window(self, key: tuple[str, ...], period: float, now: float) -> list[float]:
        start = now - now % period
        w = self._windows.get(key)
        if w is None or w[0] != start:
            previous = w[2] if w is not None and w[0] == start - period else 0.0
            if w is None and len(self._windows) >= _PURGE_ABOVE:
                self._purge(now)
            w = [start, previous, 0.0]
            self._windows[key] = w
        return w

    def _purge(self, now: float) -> None:
        # Windows are at most a day long: anything untouched for two days counts nothing any more.
        self._windows = {k: w for k, w in self._windows.items() if now - w[0] < 2 * 86400}

    @staticmethod
    def _estimate(w: list[float], period: float, now: float) -> float:
        return w[1] * (1 - (now - w[0]) / period) + w[2]

    @staticmethod
    def _retry_after(w: list[float], amount: int, period: float, now: float) -> int:
        if w[2] + 1 > amount or w[1] == 0:
            wait = w[0] + period - now  # only the next window has room
        else:  # the previous window's share must decay until one more fits
            wait = w[0] + period * (1 - (amount - 1 - w[2]) / w[1]) - now
        return max(1, math.ceil(wait))

    def hit(self, limit: str, scope: str, *identifiers: str) -> None:
        """Count one attempt; raise :class:`RateLimited` (not counted) if it is over ``limit``."""
        amount, period = parse_limit(limit)
        now = time.time()
        w = self._window((scope, *identifiers), period, now)
        if self._estimate(w, period, now) + 1 > amount:
            raise RateLimited(scope, self._retry_after(w, amount, period, now))
        w[2] += 1

    def hit_all(self, limit: str, *keys: tuple[str, str]) -> None:
        """Count one attempt in each ``(scope, identifier)`` window, or in none if any is over ``limit``.

        One clock read and one parse for all of them (`/token` counts per key and per address on every
        request), and no window is charged for an attempt another window refused.
        """
        amount, period = parse_limit(limit)
        now = time.time()
        windows = [self._window(key, period, now) for key in keys]
        for (scope, _), w in zip(keys, windows, strict=True):
            if self._estimate(w, period, now) + 1 > amount:
                raise RateLimited(scope, self._retry_after(w, amount, period, now))
        for w in windows:
            w[2] += 1

    def check(self, limit: str, scope: str, *identifiers: str) -> None:
        """Raise :class:`RateLimited` if the budget is already spent, without counting an attempt."""
        amount, period = parse_limit(limit)
        now = time.time()
        w = self._window((scope, *identifiers), period, now)
        if self._estimate(w, period, now) + 1 > amount:
            raise RateLimited(scope, self._retry_after(w, amount, period, now))

    def record(self, limit: str, scope: str, *identifiers: str) -> None:
        """Count one event (e.g. a failure) against ``limit``; :meth:`check` enforces it later."""
        _, period = parse_limit(limit)
        self._window((scope, *identifiers), period, time.time())[2] += 1

    def reset(self) -> None:
        self._windows.clear()
