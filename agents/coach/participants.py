"""Who is in the meeting: hosts come from LiveKit token metadata `{"roles": ["host"], "name": "..."}`."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.audio.events import LevelSnapshot

from .feedback import FeedbackType, Severity


@dataclass(frozen=True)
class ParticipantInfo:
    identity: str
    name: str
    is_host: bool


def parse_participant(
    identity: str, metadata: str | Mapping[str, Any] | None, name: str | None = None
) -> ParticipantInfo:
    """Roles and display name from token metadata (a JSON string or an already-parsed mapping).

    Malformed metadata makes a plain participant: a broken token must never turn someone into a host.
    """
    data: Any = metadata
    if isinstance(metadata, str):
        try:
            data = json.loads(metadata) if metadata.strip() else {}
        except ValueError:
            data = {}
    if not isinstance(data, Mapping):
        data = {}
    roles = data.get("roles")
    is_host = isinstance(roles, list) and "host" in roles
    shown = data.get("name") if isinstance(data.get("name"), str) and data.get("name") else None
    return ParticipantInfo(identity, shown or name or identity, is_host)


@dataclass
class Hysteresis:
    """A condition that must hold for `sustain` seconds before firing, and must clear to re-arm."""

    active: bool = False  # fired and not yet cleared
    run: float = 0.0  # seconds the condition has held so far
    run_start: float | None = None

    def hold(self, start: float, seconds: float) -> None:
        if self.run_start is None:
            self.run_start = start
        self.run += seconds

    def clear(self) -> None:
        self.active, self.run, self.run_start = False, 0.0, None

    def ready(self, sustain: float) -> bool:
        return not self.active and self.run >= sustain


@dataclass
class ParticipantState:
    info: ParticipantInfo
    joined_at: float
    last_t: float = 0.0  # latest session time this participant's stream has reached
    open_start: float | None = None  # current utterance, from SpeechStarted
    last_end: float | None = None
    recent: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=32))
    snapshot: LevelSnapshot | None = None
    low: Hysteresis = field(default_factory=Hysteresis)
    high: Hysteresis = field(default_factory=Hysteresis)
    monotone: Hysteresis = field(default_factory=Hysteresis)
    fast: Hysteresis = field(default_factory=Hysteresis)
    turn_start: float | None = None
    turn_last_end: float | None = None
    turn_fired: Severity | None = None
    fired: dict[FeedbackType, tuple[float, Severity]] = field(default_factory=dict)  # for the cooldown

    def speaking_interval(self) -> tuple[float, float] | None:
        if self.open_start is None:
            return None
        return (self.open_start, max(self.last_t, self.open_start))
