"""`ParticipantFeed` alone: the shared per-track path, driven with real speech and a recording profile."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.audio import AudioEvent, SpeechEnded
from agents.audio.frames import SAMPLE_RATE, frames_from_array
from agents.listening import ParticipantFeed
from agents.profiles import ParticipantHandler, Profile, ProfileContext, Speaker
from tests.transcription.speech import SCRIPT_EN, espeak


class Recorder(ParticipantHandler):
    def __init__(self) -> None:
        self.ended: list[SpeechEnded] = []
        self.closed = False

    def on_event(self, event: AudioEvent) -> None:
        if isinstance(event, SpeechEnded):
            self.ended.append(event)

    async def close(self) -> None:
        self.closed = True


class RecordingProfile(Profile):
    name = "recording-test"

    def __init__(self) -> None:
        self.handlers: dict[str, Recorder] = {}

    async def start(self, ctx: ProfileContext) -> None:
        return None

    def participant(self, speaker: Speaker) -> ParticipantHandler:
        return self.handlers.setdefault(speaker.identity, Recorder())


async def frames(x: np.ndarray[Any, np.dtype[np.int16]]) -> Any:
    for f in frames_from_array(x, SAMPLE_RATE, 20):
        yield f


async def test_stream_ending_mid_utterance_flushes_it_on_the_session_clock() -> None:
    speech = espeak(SCRIPT_EN[0])
    audio = np.concatenate([np.zeros(SAMPLE_RATE // 2, np.int16), speech])  # no pause at the end
    profile = RecordingProfile()
    feed = ParticipantFeed(profile, Speaker("ana", "TR_1", clock_offset=100.0), vad_model=None)
    await feed.run(frames(audio))
    rec = profile.handlers["ana"]
    [utt] = rec.ended
    assert rec.closed and utt.reason == "end_of_stream"
    assert abs(utt.start - 100.5) < 0.2 and abs(utt.end - (100.5 + len(speech) / SAMPLE_RATE)) < 0.2


async def test_restart_closes_the_open_utterance_and_reanchors_the_clock() -> None:
    speech = espeak(SCRIPT_EN[1])
    half = speech[: len(speech) // 2]
    profile = RecordingProfile()
    feed = ParticipantFeed(profile, Speaker("ana", "TR_1"), vad_model=None)
    for f in frames_from_array(np.concatenate([np.zeros(SAMPLE_RATE // 2, np.int16), half]), SAMPLE_RATE, 20):
        feed.push(f)
    feed.restart(clock_offset=42.0)  # a mute: frames stop while the session clock goes on
    rec = profile.handlers["ana"]
    assert len(rec.ended) == 1 and rec.ended[0].reason == "end_of_stream"
    await feed.run(frames(np.concatenate([speech, np.zeros(SAMPLE_RATE, np.int16)])))
    assert len(rec.ended) == 2
    assert abs(rec.ended[1].start - 42.0) < 0.2 and rec.ended[1].reason == "pause"
