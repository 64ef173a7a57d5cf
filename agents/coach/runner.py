"""The seam between the room (or a replay) and the coach: events in, deliveries and records out.

`CoachRunner` owns the `MeetingCoach`, one prosody stream per participant, and the throttle for debug
snapshots. The future meeting-coach profile only has to call `join()` when a participant's metadata is
known, `on_event()` from each participant's handler, and `aclose()` at the end; what to do with the
outputs (text streams to hosts, database rows) is the `CoachOutputs` it passes in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from agents.audio.events import AudioEvent, LevelSnapshot, SpeechEnded

from .engine import MeetingCoach
from .feedback import Delivery
from .prosody.base import ProsodyProvider, ProsodyResult, ProsodyStatus, ProsodyStream, Utterance


class CoachOutputs(Protocol):
    def delivery(self, delivery: Delivery) -> None:
        """Send to `delivery.recipients` (may be empty) and record; must not block (queue I/O)."""

    def prosody(self, result: ProsodyResult) -> None:
        """Store one prosody result (per utterance)."""

    def snapshot(self, participant_id: str, snapshot: LevelSnapshot) -> None:
        """Store a level snapshot for the live debug view."""

    def prosody_status(self, status: ProsodyStatus) -> None:
        """Record which prosody measure the meeting uses from now on (at the start, and at a fallback)."""


@dataclass
class Collected:
    """`CoachOutputs` that keeps everything in memory (replays, tests, the benchmark)."""

    deliveries: list[Delivery]
    results: list[ProsodyResult]
    snapshots: list[tuple[str, LevelSnapshot]]
    statuses: list[ProsodyStatus] = field(default_factory=list)

    @classmethod
    def empty(cls) -> Collected:
        return cls([], [], [])

    def delivery(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)

    def prosody(self, result: ProsodyResult) -> None:
        self.results.append(result)

    def snapshot(self, participant_id: str, snapshot: LevelSnapshot) -> None:
        self.snapshots.append((participant_id, snapshot))

    def prosody_status(self, status: ProsodyStatus) -> None:
        self.statuses.append(status)


class CoachRunner:
    def __init__(
        self,
        coach: MeetingCoach,
        outputs: CoachOutputs,
        *,
        prosody: ProsodyProvider | None = None,
        snapshot_interval_s: float = 3.0,
    ) -> None:
        self.coach = coach
        self.outputs = outputs
        self.prosody = prosody
        self.snapshot_interval_s = snapshot_interval_s
        self._streams: dict[str, ProsodyStream] = {}
        self._last_snapshot: dict[str, float] = {}
        if prosody is not None:
            outputs.prosody_status(prosody.status())
            prosody.on_status = outputs.prosody_status

    def join(
        self,
        identity: str,
        *,
        metadata: str | Mapping[str, Any] | None = None,
        name: str | None = None,
        at: float = 0.0,
    ) -> None:
        info = self.coach.join(identity, metadata=metadata, name=name, at=at)
        # No prosody about hosts: nothing would ever be generated from it, and it costs (Hume bills).
        if self.prosody is not None and not info.is_host and identity not in self._streams:
            self._streams[identity] = self.prosody.stream(identity, self._on_prosody)

    def on_event(self, identity: str, event: AudioEvent) -> None:
        if isinstance(event, LevelSnapshot):
            last = self._last_snapshot.get(identity)
            if last is None or event.t - last >= self.snapshot_interval_s - 1e-6:
                self._last_snapshot[identity] = event.t
                self.outputs.snapshot(identity, event)
        for d in self.coach.on_event(identity, event):
            self.outputs.delivery(d)
        if isinstance(event, SpeechEnded) and not event.is_background and identity in self._streams:
            st = self.coach.participants.get(identity)
            if st is not None and not st.info.is_host:  # roles may be granted mid-meeting
                self._streams[identity].push(Utterance.from_event(identity, event))

    def _on_prosody(self, result: ProsodyResult) -> None:
        self.outputs.prosody(result)
        for d in self.coach.on_prosody(result):
            self.outputs.delivery(d)

    async def aclose(self) -> None:
        for stream in self._streams.values():
            await stream.aclose()
        if self.prosody is not None:
            await self.prosody.aclose()
