"""The per-participant audio path: a chain of small stages over `rtc.AudioFrame`s.

Use `AudioChain(config, vad_model=load_silero())`, `chain.push(frame)` and `chain.close()`; events are
`SpeechStarted`, `SpeechEnded` and `LevelSnapshot`.
"""

from __future__ import annotations

from core.settings.audio import AudioChainConfig

from .chain import AudioChain, build_detector, stream_events
from .events import AudioEvent, LevelSnapshot, SpeechEnded, SpeechStarted
from .frames import SAMPLE_RATE, AudioFormatError, FrameEntrance, frames_from_array, frames_from_wav, read_wav
from .vad import SileroModel, load_silero

__all__ = [
    "SAMPLE_RATE",
    "AudioChain",
    "AudioChainConfig",
    "AudioEvent",
    "AudioFormatError",
    "FrameEntrance",
    "LevelSnapshot",
    "SileroModel",
    "SpeechEnded",
    "SpeechStarted",
    "build_detector",
    "frames_from_array",
    "frames_from_wav",
    "load_silero",
    "read_wav",
    "stream_events",
]
