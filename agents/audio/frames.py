"""The entrance of the audio chain: validate an `rtc.AudioFrame` and convert it, once, to 16 kHz mono int16.

Every later stage sees only 16 kHz mono int16 numpy arrays, so none of them repeats format checks. The
worker normally asks `rtc.AudioStream` for 16 kHz mono already, and then the entrance is a zero-copy view.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from livekit import rtc
from scipy.signal import firwin, upfirdn

SAMPLE_RATE = 16_000
"""The chain's internal sample rate (Hz)."""

SUPPORTED_RATES = (8_000, 16_000, 24_000, 48_000)
MAX_FRAME_MS = 1_000
Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float32]


class AudioFormatError(ValueError):
    """A frame the chain cannot take: unsupported rate, channel count or frame size."""


@lru_cache(maxsize=8)
def _taps(up: int, down: int) -> npt.NDArray[np.float64]:
    # Anti-alias low-pass at the narrower of the two Nyquist bands; 24 taps per phase keeps the
    # group delay under 1 ms at every supported rate, well inside one 10 ms frame.
    n = 24 * max(up, down) + 1
    taps: npt.NDArray[np.float64] = firwin(n, 0.95 / max(up, down), window=("kaiser", 6.0)) * up
    return taps


class StreamResampler:
    """Polyphase resampler with carried history, so chunk boundaries leave no seams."""

    def __init__(self, in_rate: int, out_rate: int = SAMPLE_RATE) -> None:
        g = math.gcd(in_rate, out_rate)
        self.up, self.down = out_rate // g, in_rate // g
        self._h = _taps(self.up, self.down)
        # History length (input samples) must map to a whole number of output samples.
        hist = -(-len(self._h) // self.up)
        hist += (-hist) % self.down
        self._hist = np.zeros(hist, dtype=np.float64)
        self._skip = hist * self.up // self.down
        # The linear-phase filter delays the output by (taps-1)/2 upsampled samples (a whole number of
        # output samples for every supported rate). Dropping that many at the start keeps output sample k
        # at the same stream time as the 16 kHz original, so events do not drift by the filter's delay.
        self._trim = (len(self._h) - 1) // 2 // self.down

    def process(self, x: npt.NDArray[np.float64]) -> Int16Array:
        if self.up == self.down:
            return np.clip(np.rint(x), -32768, 32767).astype(np.int16)
        buf = np.concatenate((self._hist, x))
        self._hist = buf[-len(self._hist) :]
        n_out = len(x) * self.up // self.down
        y: npt.NDArray[np.float64] = upfirdn(self._h, buf, self.up, self.down)
        y = y[self._skip : self._skip + n_out]
        if self._trim:
            y, self._trim = y[self._trim :], max(0, self._trim - len(y))
        return np.clip(np.rint(y), -32768, 32767).astype(np.int16)


class FrameEntrance:
    """Checks each frame and converts it to 16 kHz mono int16, keeping resampler state per stream."""

    def __init__(self) -> None:
        self._rate = 0
        self._resampler: StreamResampler | None = None
        self.invalid_samples = 0  # NaN/inf samples replaced by silence (float input only)

    @staticmethod
    def check(sample_rate: int, num_channels: int, samples_per_channel: int) -> None:
        if sample_rate not in SUPPORTED_RATES:
            raise AudioFormatError(f"unsupported sample rate {sample_rate} Hz; the audio chain takes {SUPPORTED_RATES}")
        if num_channels not in (1, 2):
            raise AudioFormatError(f"unsupported channel count {num_channels}; expected mono or stereo")
        step = sample_rate // 100
        if samples_per_channel % step or samples_per_channel > sample_rate * MAX_FRAME_MS // 1000:
            raise AudioFormatError(
                f"frame of {samples_per_channel} samples at {sample_rate} Hz is not a whole number of "
                f"10 ms ({step} samples) up to {MAX_FRAME_MS} ms"
            )

    def convert(self, frame: rtc.AudioFrame) -> Int16Array:
        """Validate `frame` and return its audio as 16 kHz mono int16 (empty array for an empty frame)."""
        n, ch, sr = frame.samples_per_channel, frame.num_channels, frame.sample_rate
        self.check(sr, ch, n)
        if n == 0:
            return np.zeros(0, dtype=np.int16)
        data = np.frombuffer(frame.data, dtype=np.int16)
        if data.size != n * ch:
            raise AudioFormatError(f"frame holds {data.size} samples, header says {n} x {ch} channels")
        if ch == 1 and sr == SAMPLE_RATE:
            return data
        mono = data.reshape(n, ch).mean(axis=1) if ch > 1 else data.astype(np.float64)
        return self._resample(mono, sr)

    def convert_float(self, samples: npt.NDArray[np.floating], sample_rate: int) -> Int16Array:
        """Float input in [-1, 1] (mono `(n,)` or `(n, channels)`); NaN/inf become silence and are counted."""
        arr = np.asarray(samples, dtype=np.float64)
        arr2 = arr.reshape(len(arr), -1) if arr.ndim > 1 else arr[:, None]
        self.check(sample_rate, arr2.shape[1], arr2.shape[0])
        bad = ~np.isfinite(arr2)
        if bad.any():
            self.invalid_samples += int(bad.sum())
            arr2 = np.where(bad, 0.0, arr2)
        mono: npt.NDArray[np.float64] = np.clip(arr2.mean(axis=1), -1.0, 1.0) * 32767.0
        if sample_rate == SAMPLE_RATE:
            return np.rint(mono).astype(np.int16)
        return self._resample(mono, sample_rate)

    def _resample(self, mono: npt.NDArray[np.float64], sr: int) -> Int16Array:
        if sr != self._rate or self._resampler is None:
            self._rate, self._resampler = sr, StreamResampler(sr)
        return self._resampler.process(mono)


# --- helpers to feed the chain from files and arrays (replay command, tests, bench) ----------------


def frames_from_array(samples: Int16Array, sample_rate: int, frame_ms: int = 20) -> Iterator[rtc.AudioFrame]:
    """Cut int16 audio, mono `(n,)` or interleaved `(n, channels)`, into frames; the tail is zero-padded."""
    arr = samples if samples.ndim == 2 else samples[:, None]
    ch = arr.shape[1]
    step = sample_rate * frame_ms // 1000
    for i in range(0, len(arr), step):
        chunk = arr[i : i + step]
        if len(chunk) < step:
            chunk = np.concatenate((chunk, np.zeros((step - len(chunk), ch), dtype=np.int16)))
        yield rtc.AudioFrame(np.ascontiguousarray(chunk).tobytes(), sample_rate, ch, step)


def read_wav(path: str | Path) -> tuple[Int16Array, int]:
    """16-bit PCM WAV as int16 `(n,)` (mono) or `(n, channels)`, and its sample rate."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise AudioFormatError(f"{path}: only 16-bit PCM WAV is supported")
        ch, sr = w.getnchannels(), w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return (data.reshape(-1, ch) if ch > 1 else data), sr


def write_wav(path: str | Path, samples: Int16Array, sample_rate: int) -> None:
    ch = samples.shape[1] if samples.ndim == 2 else 1
    with wave.open(str(path), "wb") as w:
        w.setnchannels(ch)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.ascontiguousarray(samples).tobytes())


def frames_from_wav(path: str | Path, frame_ms: int = 20) -> Iterator[rtc.AudioFrame]:
    samples, sr = read_wav(path)
    return frames_from_array(samples, sr, frame_ms)
