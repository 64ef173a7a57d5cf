"""The hot path's read-through caches (control_api/services/rooms.py): refreshed ahead, one read at a time."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from control_api.services import rooms


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(rooms, "_clock", c)
    return c


async def test_an_ageing_entry_is_refreshed_once_in_the_background(clock: Clock) -> None:
    state = SimpleNamespace()
    reads: list[str] = []
    gate = asyncio.Event()

    async def load() -> str:
        reads.append("read")
        if len(reads) > 1:
            await gate.wait()  # the database is slow right now
        return f"v{len(reads)}"

    assert await rooms._read_through(state, "c", "k", 10.0, load) == "v1"
    clock.now += 4.0  # young: no read at all
    assert await rooms._read_through(state, "c", "k", 10.0, load) == "v1"
    assert reads == ["read"]
    clock.now += 2.0  # past half its life: many requests, none waits, one refresh starts
    answers = await asyncio.gather(*(rooms._read_through(state, "c", "k", 10.0, load) for _ in range(20)))
    assert answers == ["v1"] * 20
    await asyncio.sleep(0)
    assert reads == ["read", "read"]
    gate.set()
    await asyncio.sleep(0.01)
    assert await rooms._read_through(state, "c", "k", 10.0, load) == "v2"  # the refreshed value, no new read
    assert reads == ["read", "read"]


async def test_an_expired_entry_is_read_before_answering(clock: Clock) -> None:
    state = SimpleNamespace()
    values = iter(["old", "new"])

    async def load() -> str:
        return next(values)

    assert await rooms._read_through(state, "c", "k", 10.0, load) == "old"
    clock.now += 10.0  # no traffic while it aged out: the next request reads, it is not served stale
    assert await rooms._read_through(state, "c", "k", 10.0, load) == "new"


async def test_a_failed_refresh_keeps_the_entry_until_it_expires(clock: Clock) -> None:
    state = SimpleNamespace()
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("database gone")
        return f"v{calls}"

    assert await rooms._read_through(state, "c", "k", 10.0, load) == "v1"
    clock.now += 6.0
    assert await rooms._read_through(state, "c", "k", 10.0, load) == "v1"
    await asyncio.sleep(0.01)  # the background refresh failed
    assert await rooms._read_through(state, "c", "k", 10.0, load) == "v1"
    await asyncio.sleep(0.01)  # and the next one (a new attempt) succeeded
    clock.now += 4.5
    assert await rooms._read_through(state, "c", "k", 10.0, load) == "v3"
