"""Seed 001's device audio, decoded as it arrives: a continuous WebM/Opus stream, or WAV/PCM 16 kHz.

A Balto device sends one container stream in chunks of 250–500 ms over `/ws`. The chunks go into a
bounded byte buffer that PyAV reads as a file (:class:`ChunkReader`); a decoding thread per connection
demuxes and decodes it (no ffmpeg process per chunk) and hands 48 kHz mono 16-bit PCM, what the LiveKit
audio source takes, to a callback. The format is told by the stream's first bytes:

- ``\\x1aE\\xdf\\xa3`` (EBML): WebM/Matroska, Opus or any codec FFmpeg decodes (seed 001's recommended);
- ``OggS``: Ogg (Opus in Ogg, what some recorders write);
- ``RIFF``: WAV. Its header is read here and the PCM after it resampled directly: FFmpeg's WAV demuxer
  holds back tens of kilobytes before its first packet, a second of latency on a live stream;
- anything else: raw PCM, signed 16-bit little-endian, 16 kHz mono (seed 001's "PCM" without a container).
"""

from __future__ import annotations

import io
import struct
import threading
from collections.abc import Callable
from typing import Any

import av
import numpy as np

OUT_RATE = 48_000  # what rtc.AudioSource is created with: no resampling inside the SDK
RAW_RATE = 16_000  # seed 001's "16kHz, 16-bit, Mono"

PcmSink = Callable[[bytes], None]  # 48 kHz mono s16le, called from the decoding thread


class InvalidAudio(Exception):
    """The stream is not audio Escuta can decode (close code 4002)."""


class ChunkReader(io.RawIOBase):
    """A read-only, non-seekable file over chunks fed from the event loop; ``read`` blocks for data.

    ``feed`` refuses (returns False) past ``max_bytes`` not yet read: the decoder is behind, the caller
    decides what that means (the socket closes a client that sends faster than it can be decoded).
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def feed(self, data: bytes) -> bool:
        with self._cond:
            if len(self._buf) + len(data) > self.max_bytes:
                return False
            self._buf += data
            self._cond.notify_all()
        return True

    def finish(self) -> None:
        """No more data: ``read`` returns what is left, then b"" (end of file)."""
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def read(self, size: int = -1) -> bytes:
        with self._cond:
            while not self._buf and not self._eof:
                self._cond.wait()
            n = len(self._buf) if size is None or size < 0 else min(size, len(self._buf))
            out = bytes(self._buf[:n])
            del self._buf[:n]
            return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read_exactly(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            part = self.read(n - len(out))
            if not part:
                break
            out += part
        return out


def sniff(first: bytes) -> str:
    """The container of a stream from its first bytes: ``matroska``, ``ogg``, ``wav`` or ``raw``."""
    if first.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if first.startswith(b"OggS"):
        return "ogg"
    if first.startswith(b"RIFF"):
        return "wav"
    return "raw"


class StreamDecoder:
    """Decode one connection's stream on a thread, as it arrives; PCM goes to ``sink``.

    ``error`` is set (and the thread ends) when the stream cannot be decoded.
    """

    def __init__(self, sink: PcmSink, *, max_buffered_bytes: int) -> None:
        self.sink = sink
        self.reader = ChunkReader(max_buffered_bytes)
        self.kind: str | None = None
        self.error: str | None = None
        self.decoded_seconds = 0.0
        self._thread: threading.Thread | None = None

    def feed(self, chunk: bytes) -> bool:
        """False when the decoder is too far behind (the buffer is full)."""
        if self._thread is None:
            self.kind = sniff(chunk)
            self._thread = threading.Thread(target=self._run, name=f"ws-decode-{self.kind}", daemon=True)
            self._thread.start()
        return self.reader.feed(chunk)

    def finish(self) -> None:
        self.reader.finish()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def failed(self) -> bool:
        return self.error is not None

    def _emit(self, frame: av.AudioFrame, resampler: av.AudioResampler) -> None:
        for out in resampler.resample(frame):
            pcm = out.to_ndarray().astype(np.int16, copy=False).tobytes()
            self.decoded_seconds += out.samples / OUT_RATE
            self.sink(pcm)

    def _run(self) -> None:
        try:
            if self.kind in ("matroska", "ogg"):
                self._run_container(self.kind)
            else:
                self._run_pcm()
        except InvalidAudio as exc:
            self.error = str(exc)
        except (av.FFmpegError, ValueError, struct.error) as exc:
            self.error = f"{type(exc).__name__}: {exc}"[:200]

    def _run_container(self, fmt: str) -> None:
        try:
            container = av.open(self.reader, "r", format=fmt, options={"probesize": "32", "analyzeduration": "0"})
        except av.FFmpegError as exc:
            raise InvalidAudio(f"not a {fmt} stream") from exc
        with container:
            if not container.streams.audio:
                raise InvalidAudio("the stream has no audio track")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=OUT_RATE)
            for packet in container.demux(stream):
                for frame in packet.decode():
                    self._emit(frame, resampler)

    def _run_pcm(self) -> None:
        rate, channels = RAW_RATE, 1
        if self.kind == "wav":
            rate, channels = _read_wav_header(self.reader)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=OUT_RATE)
        layout = "mono" if channels == 1 else "stereo"
        frame_bytes = 2 * channels
        carry = b""
        while True:
            data = self.reader.read(65536)
            if not data:
                break
            data = carry + data
            usable = len(data) - len(data) % frame_bytes
            carry = data[usable:]
            if not usable:
                continue
            samples = np.frombuffer(data[:usable], dtype="<i2").reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(samples, format="s16", layout=layout)
            frame.sample_rate = rate
            self._emit(frame, resampler)


def _read_wav_header(reader: ChunkReader) -> tuple[int, int]:
    """(sample rate, channels) of a 16-bit PCM WAV stream; leaves the reader at the first sample.

    Streaming writers put 0 or 0xFFFFFFFF in the size fields: sizes are ignored, the data runs to the end.
    """
    head = reader.read_exactly(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise InvalidAudio("not a WAV stream")
    rate = channels = bits = None
    while True:
        chunk = reader.read_exactly(8)
        if len(chunk) < 8:
            raise InvalidAudio("WAV stream ended before its data")
        cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if cid == b"data":
            break
        if size > 1 << 16:
            raise InvalidAudio("WAV header chunk too large")
        body = reader.read_exactly(size + size % 2)
        if cid == b"fmt ":
            fmt_tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if fmt_tag not in (1, 0xFFFE) or bits != 16:
                raise InvalidAudio("WAV must be 16-bit PCM")
    if rate is None or channels not in (1, 2) or not 8000 <= rate <= 192000:
        raise InvalidAudio("WAV must be 16-bit PCM, mono or stereo")
    return rate, int(channels)
