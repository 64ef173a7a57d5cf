"""One participant track through the audio chain into a profile: the code the worker and replay share.

The worker feeds it frames from `rtc.AudioStream`, replay from a decoded file; everything after the
frame source is this class, so a replay exercises exactly what runs in a room.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable

from livekit import rtc

from agents.audio import AudioChain, SileroModel
from agents.profiles.base import ParticipantHandler, Profile, Speaker

log = logging.getLogger("escuta.listening")


class ParticipantFeed:
    def __init__(self, profile: Profile, speaker: Speaker, *, vad_model: SileroModel | None) -> None:
        self.profile = profile
        self.speaker = speaker
        self._vad_model = vad_model
        self.chain = AudioChain(profile.audio, vad_model=vad_model, clock_offset=speaker.clock_offset)
        self.handler: ParticipantHandler = profile.participant(speaker)
        self._closed = False

    def push(self, frame: rtc.AudioFrame) -> None:
        self.handler.on_frame(frame)
        for event in self.chain.push(frame):
            self.handler.on_event(event)

    def restart(self, clock_offset: float) -> None:
        """Close the open utterance and continue on a fresh chain at `clock_offset` (mute, gaps).

        A muted track delivers no frames, so the chain's clock stops while the session's goes on; a
        new chain re-anchors it, and the participant's handler (its state) carries over.
        """
        for event in self.chain.close():
            self.handler.on_event(event)
        self.chain = AudioChain(self.profile.audio, vad_model=self._vad_model, clock_offset=clock_offset)

    async def run(self, frames: AsyncIterable[rtc.AudioFrame]) -> None:
        """Feed every frame, then flush: the open utterance is closed whatever ends the stream."""
        try:
            async for frame in frames:
                self.push(frame)
        finally:
            await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for event in self.chain.close():
            self.handler.on_event(event)
        await self.handler.close()
