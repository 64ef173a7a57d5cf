"""Helpers for tests that drive real LiveKit SDK participants against the test server."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from livekit import rtc

from .fixtures import LiveKitServer

SAMPLE_RATE = 48_000


async def connect(
    server: LiveKitServer, identity: str, room: str, *, auto_subscribe: bool = True, **token_kwargs: Any
) -> rtc.Room:
    """Connect an SDK participant; returns once its publisher PeerConnection is up."""
    r = rtc.Room()
    await r.connect(
        server.url, server.token(identity, room, **token_kwargs), rtc.RoomOptions(auto_subscribe=auto_subscribe)
    )
    return r


def event_future(room: rtc.Room, event: str, predicate: Callable[..., bool] = lambda *a: True) -> asyncio.Future[Any]:
    """A future resolved with the first `event` (its args as a tuple) that satisfies `predicate`."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def handler(*args: Any) -> None:
        if not fut.done() and predicate(*args):
            fut.set_result(args)

    name = cast(Any, event)  # the SDK types event names as a Literal union
    room.on(name, handler)
    fut.add_done_callback(lambda _: room.off(name, handler))
    return fut


class Tone:
    """A sine tone published as a microphone track, paced in real time."""

    def __init__(self, frequency: float, *, amplitude: float = 0.3) -> None:
        self.frequency = frequency
        self.source = rtc.AudioSource(SAMPLE_RATE, 1)
        self.track = rtc.LocalAudioTrack.create_audio_track("tone", self.source)
        self._amplitude = amplitude
        self._task: asyncio.Task[None] | None = None

    async def publish(self, room: rtc.Room) -> rtc.LocalTrackPublication:
        opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        pub = await room.local_participant.publish_track(self.track, opts)
        self._task = asyncio.create_task(self._run())
        return pub

    async def _run(self) -> None:
        n = SAMPLE_RATE // 100  # 10 ms frames; capture_frame paces us
        t0 = 0
        while True:
            t = (np.arange(n) + t0) / SAMPLE_RATE
            samples = (self._amplitude * 32767 * np.sin(2 * math.pi * self.frequency * t)).astype(np.int16)
            t0 += n
            await self.source.capture_frame(rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, n))

    async def aclose(self) -> None:
        if self._task:
            self._task.cancel()
        await self.source.aclose()


async def dominant_frequency(track: rtc.Track, *, seconds: float = 0.5, within: float = 10) -> float:
    """Listen to `track` until `seconds` of non-silent audio arrived; return its strongest frequency."""
    stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1)
    need = int(seconds * SAMPLE_RATE)
    chunks: list[np.ndarray[Any, np.dtype[np.int16]]] = []
    got = 0

    async def collect() -> None:
        nonlocal got
        async for ev in stream:
            data = np.frombuffer(ev.frame.data, dtype=np.int16)
            if got == 0 and np.abs(data).max() < 1000:
                continue  # skip the silence before the tone arrives
            chunks.append(data.copy())
            got += len(data)
            if got >= need:
                return

    try:
        await asyncio.wait_for(collect(), within)
    finally:
        await stream.aclose()
    audio = np.concatenate(chunks).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def on_text(room: rtc.Room, topic: str, sink: Callable[[str, str], Any]) -> None:
    """Call `sink(sender_identity, text)` for every complete text stream on `topic`."""
    tasks: set[asyncio.Task[None]] = set()

    async def read(reader: rtc.TextStreamReader, sender: str) -> None:
        sink(sender, await reader.read_all())

    def handler(reader: rtc.TextStreamReader, sender: str) -> None:
        task = asyncio.ensure_future(read(reader, sender))
        tasks.add(task)  # keep a reference until done
        task.add_done_callback(tasks.discard)

    room.register_text_stream_handler(topic, handler)
