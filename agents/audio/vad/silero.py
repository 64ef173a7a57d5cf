"""Silero VAD without the livekit-agents stream machinery around it.

Most of the plugin's CPU is asyncio, channels and an executor hop per 32 ms window, not the model, so we
call the model directly and synchronously. Two backends run the same Silero network:
`native` (livekit-local-inference, shipped with livekit-agents, int16 in, GIL released, about 6x cheaper
per window here) and `onnx` (livekit-plugins-silero's ONNX file through onnxruntime).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.settings.audio import SileroBackend

from ..frames import Int16Array
from .base import VADCapabilities, VoiceDetector

WINDOW = 512  # 32 ms at 16 kHz: the only window the 16 kHz Silero model takes


class SileroModel:
    """Process-wide model handle: load once (prewarm), share across every stream's `SileroVAD`."""

    def __init__(self, backend: SileroBackend = "native") -> None:
        self.backend: SileroBackend = backend
        self._session: Any = None
        if backend == "native":
            from livekit.local_inference import init_vad

            init_vad()
        else:
            from livekit.plugins.silero import onnx_model

            self._session = onnx_model.new_inference_session(force_cpu=True)

    def new_state(self) -> Any:
        if self.backend == "native":
            from livekit.local_inference import VAD

            return VAD()
        from livekit.plugins.silero import onnx_model

        return onnx_model.OnnxModel(onnx_session=self._session, sample_rate=16000)


_shared: dict[str, SileroModel] = {}


def load_silero(backend: SileroBackend = "native") -> SileroModel:
    """The shared model for this process (created on first call)."""
    if backend not in _shared:
        _shared[backend] = SileroModel(backend)
    return _shared[backend]


class SileroVAD(VoiceDetector):
    capabilities = VADCapabilities(window_samples=WINDOW, neural=True)

    def __init__(self, model: SileroModel | None = None, *, smoothing: float = 0.35) -> None:
        super().__init__()
        self.model = model or load_silero()
        self._state = self.model.new_state()
        self._native = self.model.backend == "native"
        # Same exponential smoothing as livekit-plugins-silero, so thresholds mean the same thing.
        self._alpha = smoothing
        self._p: float | None = None
        self.inferences = 0

    def _window(self, x: Int16Array) -> float:
        return self.infer(x)

    def infer(self, x: Int16Array) -> float:
        """Run the model on exactly one 512-sample window (bypassing the buffer); smoothed probability."""
        self.inferences += 1
        state = self._state
        raw = float(state.predict(x) if self._native else state(x.astype(np.float32) / 32768.0))
        self._p = raw if self._p is None else self._alpha * self._p + (1.0 - self._alpha) * raw
        return self._p

    def decay(self) -> None:
        """A window judged silent elsewhere (cascade): smooth the probability towards zero."""
        if self._p is not None:
            self._p *= self._alpha

    def reset_state(self) -> None:
        """Forget the model's recurrent state (not the buffered samples)."""
        self._state.reset()

    def reset(self) -> None:
        super().reset()
        self._state.reset()
        self._p = None
