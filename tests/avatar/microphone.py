"""A visitor's microphone for an AgentSession without a room, and real speech to say into it.

`Microphone` is a livekit-agents `io.AudioInput` that behaves like the room's input (RoomIO's participant
stream): frames arriving while the input is detached (`session.input.set_audio_enabled(False)`, what
`avatar.pause_listening` does) are dropped, the rest go to the session as they come.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import AgentSession, UserInputTranscribedEvent
from livekit.agents.voice import io

from tests.transcription.speech import SR, Int16

FRAME = SR // 50  # 20 ms


class Microphone(io.AudioInput):
    def __init__(self) -> None:
        super().__init__(label="test-microphone")
        self.attached = False
        self.delivered = 0  # frames the session was given
        self.dropped = 0  # frames that arrived while detached
        self._frames: asyncio.Queue[rtc.AudioFrame] = asyncio.Queue()

    def on_attached(self) -> None:
        self.attached = True

    def on_detached(self) -> None:
        self.attached = False

    async def __anext__(self) -> rtc.AudioFrame:
        return await self._frames.get()

    def say(self, speech: Int16, *, trailing_silence: float = 1.5) -> None:
        """`speech` then silence (so the turn ends), in 20 ms frames, all at once."""
        audio = np.concatenate([speech, np.zeros(int(trailing_silence * SR), np.int16)])
        for i in range(0, len(audio) - FRAME + 1, FRAME):
            if not self.attached:
                self.dropped += 1
                continue
            self.delivered += 1
            self._frames.put_nowait(rtc.AudioFrame(audio[i : i + FRAME].tobytes(), SR, 1, FRAME))


async def wait_until(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the session")
        await asyncio.sleep(0.05)


def listen_with(session: AgentSession[Any]) -> tuple[Microphone, list[str]]:
    """A `Microphone` as the session's audio input, and the list its final transcripts are appended to."""
    mic = Microphone()
    heard: list[str] = []

    def on_transcribed(ev: UserInputTranscribedEvent) -> None:
        if ev.is_final and ev.transcript:
            heard.append(ev.transcript)

    session.on("user_input_transcribed", on_transcribed)
    session.input.audio = mic
    return mic, heard
