"""Hume for a meeting while it works, the local measure for the rest of the meeting once it does not.

Hume's realtime expression API is in limited release: a key without access (or revoked) answers 401/403,
and a service that is down fails every reconnection. Prosody feeds only two feedback types, so the
meeting keeps its coach either way: the first utterance Hume refuses or gives up on
(`HumeStream.on_failed`) switches the *whole meeting* to `LocalProsody`, so that every participant is
judged by one measure. That utterance and every later one (those queued behind it included, for every
participant) are measured locally; the switch is logged once and reported through `on_status`, which
the coach records on the feedback it stores and shows in `/feedback/debug`.

Nothing is remembered across meetings: the next meeting builds a new provider and tries Hume again, so a
key that gains access, or a service that comes back, is used from the next meeting on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import ClassVar

from .base import ProsodyCapabilities, ProsodyProvider, ProsodyStatus, ProsodyStream, ResultCallback, Utterance
from .hume import HumeProsody, HumeStream
from .local import LocalProsody

log = logging.getLogger("escuta.coach.prosody")


class HumeWithLocalFallback(ProsodyProvider):
    name: ClassVar[str] = "hume"
    capabilities: ClassVar[ProsodyCapabilities] = HumeProsody.capabilities

    def __init__(self, hume: HumeProsody, *, clock: Callable[[], float] = time.time) -> None:
        self.hume = hume
        self.local = LocalProsody()
        self.clock = clock
        self._status = ProsodyStatus("hume", "hume")
        self._streams: list[_FallbackStream] = []

    @property
    def fell_back(self) -> bool:
        return self._status.provider != "hume"

    def status(self) -> ProsodyStatus:
        return self._status

    def stream(self, participant_id: str, on_result: ResultCallback) -> ProsodyStream:
        st = _FallbackStream(self, participant_id, on_result)
        self._streams.append(st)
        return st

    def fall_back(self, reason: str, detail: str) -> None:
        """Measure the rest of this meeting locally (idempotent: the first reason is the one kept)."""
        if self.fell_back:
            return
        self._status = ProsodyStatus("hume", "local", reason, detail, self.clock())
        log.warning("prosody_fallback", extra={"reason": reason, "detail": detail, "to": "local"})
        for st in self._streams:
            st.hume.abandon(reason, detail)
        if self.on_status is not None:
            self.on_status(self._status)

    async def aclose(self) -> None:
        await self.hume.aclose()


class _FallbackStream(ProsodyStream):
    def __init__(self, provider: HumeWithLocalFallback, participant_id: str, on_result: ResultCallback) -> None:
        self.p = provider
        self.local = provider.local.stream(participant_id, on_result)
        self.hume: HumeStream = provider.hume.stream(participant_id, on_result, on_failed=self._failed)
        if provider.fell_back:  # a participant joining after the switch never talks to Hume
            status = provider.status()
            self.hume.abandon(status.fallback or "hume_failed", status.detail or "")

    def push(self, utterance: Utterance) -> None:
        if self.p.fell_back:
            self.local.push(utterance)
        else:
            self.hume.push(utterance)

    def _failed(self, utterance: Utterance, reason: str, detail: str) -> None:
        self.p.fall_back(reason, detail)
        self.local.push(utterance)  # measured after all, by the other measure

    async def aclose(self) -> None:
        await self.hume.aclose()
        await self.local.aclose()
