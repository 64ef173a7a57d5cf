"""Offline prosody: F0 and energy statistics per utterance (`features.analyze`), computed inline.

Cheap enough for the frame loop (about 1 ms per second of speech), so it runs synchronously when an
utterance ends and its result reaches the coach before the next audio frame.
"""

from __future__ import annotations

from typing import ClassVar

from .base import (
    ProsodyCapabilities,
    ProsodyProvider,
    ProsodyResult,
    ProsodyStatus,
    ProsodyStream,
    ResultCallback,
    Utterance,
)
from .features import analyze

MIN_UTTERANCE_S = 0.8  # shorter utterances ("sim", "uhum") say nothing about intonation or rate


class _LocalStream(ProsodyStream):
    def __init__(self, participant_id: str, on_result: ResultCallback) -> None:
        self.participant_id = participant_id
        self.on_result = on_result

    def push(self, utterance: Utterance) -> None:
        if utterance.end - utterance.start < MIN_UTTERANCE_S:
            return
        features = analyze(utterance.speech())
        self.on_result(
            ProsodyResult(
                participant_id=self.participant_id,
                provider=LocalProsody.name,
                utterance_start=utterance.start,
                utterance_end=utterance.end,
                window_start=utterance.start,
                window_end=utterance.end,
                features=features.as_dict(),
            )
        )

    async def aclose(self) -> None:
        return None


class LocalProsody(ProsodyProvider):
    name: ClassVar[str] = "local"
    capabilities: ClassVar[ProsodyCapabilities] = ProsodyCapabilities(streaming=False, offline=True)

    def __init__(self, *, instead_of: ProsodyStatus | None = None) -> None:
        # Set when the meeting was meant for another provider (Hume without the organization's key).
        self._status = instead_of or ProsodyStatus(self.name, self.name)

    def status(self) -> ProsodyStatus:
        return self._status

    def stream(self, participant_id: str, on_result: ResultCallback) -> ProsodyStream:
        return _LocalStream(participant_id, on_result)
