"""Levels stage: loudness and speech coverage for the meeting coach (seed 002).

Per frame it measures RMS, peak and clipped samples of the raw input (before noise reduction, because the
coach judges what the participant sends). Sliding windows keep running sums, so each frame costs O(1)
besides one dot product.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from .events import LevelSnapshot
from .frames import SAMPLE_RATE, Int16Array

FLOOR_DBFS = -100.0
_FULL_SCALE = 32768.0
_CLIP = 32767


def dbfs(mean_square: float) -> float:
    """dBFS of a mean square in int16 units (full-scale square wave = 0 dBFS), floored for silence."""
    if mean_square <= 0.0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 10.0 * math.log10(mean_square / (_FULL_SCALE * _FULL_SCALE)))


class _Window:
    """Running sums over the last `size` samples, kept per frame."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: deque[tuple[int, float]] = deque()
        self.n = 0
        self.total = 0.0

    def add(self, n: int, value: float) -> None:
        self._items.append((n, value))
        self.n += n
        self.total += value
        while self.n - self._items[0][0] >= self.size:
            old_n, old_v = self._items.popleft()
            self.n -= old_n
            self.total -= old_v


class LevelMeter:
    """RMS/EMA/peak/clipping per frame, mean RMS over `mean_window_s`, speech coverage over `coverage_window_s`."""

    def __init__(
        self,
        *,
        ema_time_constant_s: float = 0.5,
        mean_window_s: float = 3.0,
        coverage_window_s: float = 10.0,
        snapshot_interval_s: float = 1.0,
    ) -> None:
        self._tau = ema_time_constant_s
        self._energy = _Window(int(mean_window_s * SAMPLE_RATE))
        self._speech = _Window(int(coverage_window_s * SAMPLE_RATE))
        self._interval = int(snapshot_interval_s * SAMPLE_RATE)
        self._next_snapshot = self._interval
        self.samples = 0
        self.last_ms = 0.0
        self.ema_rms = 0.0
        self._ema_started = False
        self._peak = 0
        self._clipped = 0
        self._since = 0

    def process(self, x: Int16Array) -> None:
        n = len(x)
        if n == 0:
            return
        xf = x.astype(np.float32)
        ms = float(np.dot(xf, xf)) / n
        self.last_ms = ms
        self.samples += n
        self._energy.add(n, ms * n)
        hi, lo = int(x.max()), int(x.min())
        peak = max(hi, -lo)
        if peak > self._peak:
            self._peak = peak
        if peak >= _CLIP:  # only count clipped samples when the frame reaches full scale
            self._clipped += int(np.count_nonzero((x >= _CLIP) | (x <= -_CLIP)))
        self._since += n
        rms = math.sqrt(ms)
        if not self._ema_started:
            self.ema_rms, self._ema_started = rms, True
        else:
            a = 1.0 - math.exp(-n / (self._tau * SAMPLE_RATE))
            self.ema_rms += a * (rms - self.ema_rms)

    def mark_speech(self, n: int, speech_samples: int) -> None:
        """Record that `speech_samples` of the last `n` samples were speech (from the VAD)."""
        self._speech.add(n, float(speech_samples))

    def due(self) -> bool:
        return self.samples >= self._next_snapshot

    def snapshot(self, t: float, speaking: bool) -> LevelSnapshot:
        self._next_snapshot = (self.samples // self._interval + 1) * self._interval
        peak = self._peak / _FULL_SCALE
        snap = LevelSnapshot(
            t=t,
            rms_dbfs=dbfs(self.last_ms),
            ema_rms_dbfs=dbfs(self.ema_rms * self.ema_rms),
            mean_rms_dbfs=dbfs(self._energy.total / self._energy.n if self._energy.n else 0.0),
            peak_dbfs=20.0 * math.log10(peak) if peak > 0 else FLOOR_DBFS,
            clipping_ratio=self._clipped / self._since if self._since else 0.0,
            speech_coverage=self._speech.total / self._speech.n if self._speech.n else 0.0,
            speaking=speaking,
        )
        self._peak = self._clipped = self._since = 0
        return snap
