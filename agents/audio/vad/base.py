"""One base class for voice activity detectors.

A detector consumes 16 kHz mono int16 audio in whatever chunks arrive, buffers to its own window size and
returns one speech probability per completed window. Hysteresis, minimum durations and padding live in
the segmenter, so every detector is judged by the same rules.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..frames import Int16Array


@dataclass(frozen=True, slots=True)
class VADCapabilities:
    window_samples: int  # decision granularity at 16 kHz
    neural: bool  # True if it runs a model (costly); the cascade uses this to order detectors


class VoiceDetector(ABC):
    """Per-stream detector state. Models are shared: pass the preloaded model to the constructor."""

    capabilities: VADCapabilities

    def __init__(self) -> None:
        self._buf = np.zeros(0, dtype=np.int16)

    @property
    def window_samples(self) -> int:
        return self.capabilities.window_samples

    def process(self, x: Int16Array) -> list[float]:
        """Speech probabilities for every window completed by `x` (in order)."""
        w = self.capabilities.window_samples
        if len(self._buf) == 0 and len(x) == w:
            return [self._window(x)]  # the common case: frames already the window size
        buf = np.concatenate((self._buf, x)) if len(self._buf) else x
        n = len(buf) // w
        out = [self._window(buf[i * w : (i + 1) * w]) for i in range(n)]
        self._buf = buf[n * w :].copy()
        return out

    @abstractmethod
    def _window(self, x: Int16Array) -> float:
        """Probability of speech in exactly one window of `window_samples` samples."""

    def reset(self) -> None:
        self._buf = np.zeros(0, dtype=np.int16)
