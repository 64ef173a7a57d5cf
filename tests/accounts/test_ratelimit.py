"""The sliding-window counter behind the 429s."""

from __future__ import annotations

import pytest

from core.security.ratelimit import RateLimited, RateLimiter, parse_limit


def test_parse() -> None:
    assert parse_limit("10/minute") == (10, 60.0)
    assert parse_limit("5 per hour") == (5, 3600.0)
    assert parse_limit("100/5 minutes") == (100, 300.0)
    for bad in ("ten/minute", "0/minute", "5/fortnight", ""):
        with pytest.raises(ValueError):
            parse_limit(bad)


def test_window_slides(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [60 * 16_667 + 20.0]  # 20 s into a minute window
    monkeypatch.setattr("core.security.ratelimit.time.time", lambda: now[0])
    rl = RateLimiter()
    for _ in range(3):
        rl.hit("3/minute", "s", "k")
    with pytest.raises(RateLimited) as exc:
        rl.hit("3/minute", "s", "k")
    assert exc.value.retry_after == 40  # the rest of this window
    rl.hit("3/minute", "s", "other")  # keys are independent
    now[0] += 40 + 30  # half-way through the next window: 3 * 0.5 = 1.5 still count
    rl.hit("3/minute", "s", "k")
    with pytest.raises(RateLimited):
        rl.hit("3/minute", "s", "k")
    now[0] += 120  # two windows later: nothing counts
    for _ in range(3):
        rl.hit("3/minute", "s", "k")


def test_check_and_record(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.security.ratelimit.time.time", lambda: 1_000_000.0)
    rl = RateLimiter()
    rl.check("2/hour", "fail", "x")
    rl.record("2/hour", "fail", "x")
    rl.record("2/hour", "fail", "x")
    with pytest.raises(RateLimited) as exc:
        rl.check("2/hour", "fail", "x")
    assert exc.value.retry_after >= 1


def test_hit_all_counts_every_window_or_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.security.ratelimit.time.time", lambda: 2_000_000.0)
    rl = RateLimiter()
    rl.hit_all("2/hour", ("key", "a"), ("source", "x"))
    rl.hit_all("2/hour", ("key", "b"), ("source", "x"))
    with pytest.raises(RateLimited) as exc:  # the source's window is full, key "a"'s is not
        rl.hit_all("2/hour", ("key", "a"), ("source", "x"))
    assert exc.value.scope == "source"
    # The refused attempt charged no window: key "a" still has one left, from another source.
    rl.hit_all("2/hour", ("key", "a"), ("source", "y"))
    with pytest.raises(RateLimited) as exc:
        rl.hit_all("2/hour", ("key", "a"), ("source", "z"))
    assert exc.value.scope == "key"
    # And hit_all shares its windows with hit: the same (scope, identifier) keys.
    with pytest.raises(RateLimited):
        rl.hit("2/hour", "key", "a")
