"""The prosody capability: one base class, providers chosen by configuration (`ESCUTA_COACH_PROSODY_PROVIDER`).

A provider opens one `ProsodyStream` per participant. The coach pushes each finished utterance (the
audio chain's `SpeechEnded`) into it; results come back through a callback, one or more per
utterance, tagged with the utterance's times on the session clock so they can be stored per utterance
and fed back into the coach. `push()` never blocks the frame loop: a remote provider queues.

A provider also reports which measure is really in use (`status()`): a meeting set up for Hume may be
measured locally, from the start (no key) or from the moment Hume refused or failed (`fallback.py`); it
calls `on_status` when that changes, so the coach can record it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from agents.audio.events import SpeechEnded
from agents.audio.frames import SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Utterance:
    """One participant's utterance: 16 kHz mono int16 from `audio_start` (session clock, seconds)."""

    participant_id: str
    start: float
    end: float
    audio: npt.NDArray[np.int16] = field(repr=False)
    audio_start: float

    @classmethod
    def from_event(cls, participant_id: str, ev: SpeechEnded) -> Utterance:
        return cls(participant_id, ev.start, ev.end, ev.audio, ev.audio_start)

    def speech(self) -> npt.NDArray[np.int16]:
        """The audio between `start` and `end` (without the chain's pre-roll)."""
        i = max(0, round((self.start - self.audio_start) * SAMPLE_RATE))
        j = max(i, round((self.end - self.audio_start) * SAMPLE_RATE))
        return self.audio[i:j]


@dataclass(frozen=True, slots=True)
class ProsodyResult:
    """One measurement of (part of) an utterance. `features` is provider-specific JSON."""

    participant_id: str
    provider: str
    utterance_start: float
    utterance_end: float
    window_start: float
    window_end: float
    features: dict[str, Any]


@dataclass(frozen=True)
class ProsodyCapabilities:
    streaming: bool  # results may arrive while the utterance is still being sent
    offline: bool  # works without network or credentials


@dataclass(frozen=True, slots=True)
class ProsodyStatus:
    """The measure a meeting's prosody comes from, and why it is not the one it was set up with."""

    requested: str  # "hume" or "local": what the meeting was set up with
    provider: str  # what measures now
    fallback: str | None = None  # "hume_refused", "hume_failed", "no_hume_credential"; None: as requested
    detail: str | None = None  # e.g. "key refused: HTTP 403" (never a key)
    at: float | None = None  # epoch seconds of the fallback


ResultCallback = Callable[[ProsodyResult], None]
StatusCallback = Callable[[ProsodyStatus], None]


class ProsodyStream(ABC):
    @abstractmethod
    def push(self, utterance: Utterance) -> None:
        """Queue one utterance for analysis; must return at once."""

    @abstractmethod
    async def aclose(self) -> None:
        """Finish every queued utterance, deliver its results, then release the connection."""


class ProsodyProvider(ABC):
    name: ClassVar[str]
    capabilities: ClassVar[ProsodyCapabilities]
    on_status: StatusCallback | None = None  # set by the coach's runner: told when `status()` changes

    def status(self) -> ProsodyStatus:
        return ProsodyStatus(self.name, self.name)

    @abstractmethod
    def stream(self, participant_id: str, on_result: ResultCallback) -> ProsodyStream:
        """A stream for one participant (a remote provider opens one connection per participant)."""

    async def aclose(self) -> None:
        return None
