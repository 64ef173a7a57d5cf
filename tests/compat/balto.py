"""A seed 001 Balto device, as its manual describes it: `/ws`, a `{"api_key"}` frame, then audio chunks.

Audio is real: espeak-ng Portuguese speech, encoded at test time with PyAV as a live WebM/Opus stream
(what a browser's MediaRecorder sends) or as a streaming WAV (size fields unknown), cut into 250 ms chunks.
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av
import numpy as np

from tests.transcription.speech import SR, Int16, espeak

CHUNK_SECONDS = 0.25


def speech(text: str) -> Int16:
    return espeak(text, voice="pt-br")


def silence(seconds: float) -> Int16:
    return np.zeros(int(seconds * SR), dtype=np.int16)


def webm_opus(pcm: Int16) -> list[bytes]:
    """``pcm`` (16 kHz mono) as a live WebM/Opus stream, cut where each 250 ms of audio has been written."""
    sink = _Sink()
    out = av.open(sink, "w", format="webm", options={"live": "1", "cluster_time_limit": "250"})
    stream = out.add_stream("libopus", rate=48000)
    stream.layout = "mono"  # type: ignore[union-attr]
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
    step = int(CHUNK_SECONDS * SR)
    chunks: list[bytes] = []
    for start in range(0, len(pcm), step):
        frame = av.AudioFrame.from_ndarray(pcm[start : start + step].reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SR
        for resampled in resampler.resample(frame):
            for packet in stream.encode(resampled):  # type: ignore[union-attr]
                out.mux(packet)
        chunks.append(sink.take())
    for packet in stream.encode(None):  # type: ignore[union-attr]
        out.mux(packet)
    out.close()
    chunks[-1] += sink.take()
    return [c for c in chunks if c] or [b""]


def wav_stream(pcm: Int16) -> list[bytes]:
    """A streaming WAV (size fields 0xFFFFFFFF, as live writers do) in 250 ms chunks; header in the first."""
    header = (
        b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, SR, SR * 2, 2, 16)
    )
    header += b"data" + struct.pack("<I", 0xFFFFFFFF)
    step = int(CHUNK_SECONDS * SR)
    chunks = [pcm[i : i + step].astype("<i2").tobytes() for i in range(0, len(pcm), step)]
    chunks[0] = header + chunks[0]
    return chunks


class LiveWebm:
    """A WebM/Opus encoder fed in pieces, as a device records: each call returns the bytes muxed so far."""

    def __init__(self) -> None:
        self._sink = _Sink()
        # What a browser's MediaRecorder with a 250 ms timeslice hands over: a cluster every 250 ms (the
        # muxer's default holds a cluster, so the first bytes of an utterance, for seconds).
        self._out = av.open(self._sink, "w", format="webm", options={"live": "1", "cluster_time_limit": "250"})
        self._stream = self._out.add_stream("libopus", rate=48000)
        self._stream.layout = "mono"  # type: ignore[union-attr]
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)

    def encode(self, pcm: Int16) -> bytes:
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SR
        for resampled in self._resampler.resample(frame):
            for packet in self._stream.encode(resampled):  # type: ignore[union-attr]
                self._out.mux(packet)
        return self._sink.take()

    def close(self) -> bytes:
        for packet in self._stream.encode(None):  # type: ignore[union-attr]
            self._out.mux(packet)
        self._out.close()
        return self._sink.take()


class LiveWav:
    """A streaming WAV fed in pieces: the header with the first one."""

    def __init__(self) -> None:
        self._header: bytes | None = wav_stream(np.zeros(1, np.int16))[0][:-2]

    def encode(self, pcm: Int16) -> bytes:
        head, self._header = self._header or b"", None
        return head + pcm.astype("<i2").tobytes()

    def close(self) -> bytes:
        return b""


class _Sink(io.RawIOBase):
    """A write-only, non-seekable file: what the muxer wrote since the last `take`."""

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, b: Any) -> int:
        self._buf += bytes(b)
        return len(b)

    def take(self) -> bytes:
        out = bytes(self._buf)
        self._buf.clear()
        return out


@dataclass
class Device:
    """One `/ws` connection: frames received (JSON) with their arrival time, and how it closed."""

    ws: aiohttp.ClientWebSocketResponse
    frames: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str | None = None
    _reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            msg = await self.ws.receive()
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames.append((time.perf_counter(), json.loads(msg.data)))
            elif msg.type != aiohttp.WSMsgType.BINARY:
                self.close_code = self.ws.close_code
                self.close_reason = msg.extra if isinstance(msg.extra, str) else None
                return

    async def closed(self, within: float) -> int | None:
        assert self._reader is not None
        await asyncio.wait_for(asyncio.shield(self._reader), within)
        return self.close_code

    async def stream(self, chunks: list[bytes], *, realtime: bool = True) -> list[float]:
        """Send the chunks, one per 250 ms of audio when ``realtime``; returns each chunk's send time."""
        sent: list[float] = []
        start = time.perf_counter()
        for i, chunk in enumerate(chunks):
            if realtime:
                await asyncio.sleep(max(0.0, start + i * CHUNK_SECONDS - time.perf_counter()))
            await self.ws.send_bytes(chunk)
            sent.append(time.perf_counter())
        return sent

    async def play(self, encoder: LiveWebm | LiveWav, pcm: Int16, *, at: float | None = None) -> float:
        """Record-and-send at real time: each 250 ms of ``pcm`` is encoded and sent once it has been
        "heard". ``at``: when sample 0 is heard (default now). Returns when the last sample is heard."""
        step = int(CHUNK_SECONDS * SR)
        at = time.perf_counter() if at is None else at
        for start in range(0, len(pcm), step):
            chunk = pcm[start : start + step]
            await asyncio.sleep(max(0.0, at + (start + len(chunk)) / SR - time.perf_counter()))
            data = encoder.encode(chunk)
            if data:
                await self.ws.send_bytes(data)
        return at + len(pcm) / SR

    def recommendations(self) -> list[dict[str, Any]]:
        return [f for _t, f in self.frames if f.get("comando") == "recomendar"]


async def closed_with(
    session: aiohttp.ClientSession, url: str, *frames: str | bytes, wait: float = 10.0
) -> tuple[int | None, str]:
    """Connect, send ``frames`` in order, and return the close code and reason the server chose."""
    async with session.ws_connect(url) as ws:
        for frame in frames:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)
        msg = await ws.receive(timeout=wait)
        while msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            msg = await ws.receive(timeout=wait)
        reason = msg.extra if isinstance(msg.extra, str) else ""
        return ws.close_code, reason
