"""Typed events that come out of the audio chain.

Times are seconds on the stream's clock: sample 0 of the first pushed frame is `t=0` plus the chain's
`clock_offset`. `detected_at` is the stream time at which the chain knew, so consumers can measure lag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from livekit import rtc

from .frames import SAMPLE_RATE

EndReason = Literal["pause", "max_length", "end_of_stream", "background"]
"""`background`: the background-speech stage found the utterance's head was someone else (see `background.py`)."""
Decision = Literal["near", "background"]


@dataclass(frozen=True, slots=True)
class BackgroundVerdict:
    """What the background-speech stage (`background.py`) concluded about one utterance."""

    decision: Decision
    confidence: float
    """0..1 that the utterance is the near speaker's; 1.0 when no background speech has been heard."""
    margin_db: float | None = None
    """The utterance's speech level above the background speech level (None: no background speech heard)."""
    background_dbfs: float | None = None
    """The tracked background speech level, dBFS over 96 ms (None: no background speech heard)."""


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    start: float
    detected_at: float
    continuation: bool = False  # True when it follows a max-length split of the same turn


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    start: float
    end: float
    detected_at: float
    reason: EndReason
    audio: npt.NDArray[np.int16] = field(repr=False)
    """16 kHz mono int16, from `start - pre_roll` to `end` (the raw input, not the denoised one)."""
    audio_start: float = 0.0
    """Stream time of `audio[0]` (earlier than `start` by the pre-roll)."""
    background: BackgroundVerdict | None = None
    """The background-speech stage's verdict (None when the stage is off)."""

    @property
    def is_background(self) -> bool:
        """Judged someone else's speech (a TV, a radio, another desk): not the participant's words."""
        return self.background is not None and self.background.decision == "background"

    @property
    def duration(self) -> float:
        return self.end - self.start

    def frame(self) -> rtc.AudioFrame:
        """The utterance audio as one `rtc.AudioFrame`, ready for an STT `recognize()`."""
        return rtc.AudioFrame(self.audio.tobytes(), SAMPLE_RATE, 1, len(self.audio))


@dataclass(frozen=True, slots=True)
class LevelSnapshot:
    t: float
    rms_dbfs: float  # last frame
    ema_rms_dbfs: float
    mean_rms_dbfs: float  # energy mean over the short window (3 s by default)
    peak_dbfs: float  # since the previous snapshot
    clipping_ratio: float  # clipped samples / samples since the previous snapshot
    speech_coverage: float  # fraction of the long window (10 s by default) the VAD called speech
    speaking: bool


AudioEvent = SpeechStarted | SpeechEnded | LevelSnapshot
