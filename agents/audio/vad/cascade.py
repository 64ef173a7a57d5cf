"""Cascade: the cheap detector settles the obvious windows, Silero only the unsure ones.

A window is "sure non-speech" when it is quiet in absolute terms (below `quiet_dbfs`: an empty room, a
muted mic) or when it sits within `skip_margin_db` of the tracked noise floor *and* lenient webrtcvad
(mode 0) hears no voice. Everything else goes to Silero, whose verdict is final. The rule is deliberately
conservative: in loud noise nothing is skipped, so accuracy stays Silero's and only quiet time is saved.
Silero still hears every `refresh_every`-th quiet window: its recurrent state calibrates to the background,
and starving it of all quiet audio cost up to 0.03 F1 in the benchmark (pink 20 dB, impulses); every 4th
window cost 0.003 (pink 20 dB); every 2nd matches Silero alone or beats it in every row.
"""

from __future__ import annotations

import webrtcvad

from ..frames import SAMPLE_RATE, Int16Array
from .base import VADCapabilities, VoiceDetector
from .silero import WINDOW, SileroModel, SileroVAD
from .webrtc import EnergyGate


class CascadeVAD(VoiceDetector):
    capabilities = VADCapabilities(window_samples=WINDOW, neural=True)

    def __init__(
        self,
        model: SileroModel | None = None,
        *,
        webrtc_mode: int = 0,
        skip_margin_db: float = 2.0,
        quiet_dbfs: float = -55.0,
        refresh_every: int = 2,
    ) -> None:
        super().__init__()
        self.silero = SileroVAD(model)
        self._webrtc = webrtcvad.Vad(webrtc_mode)
        self.gate = EnergyGate(margin_db=skip_margin_db)
        self.quiet_dbfs = quiet_dbfs
        self.windows = 0
        self.skipped = 0
        self._prev: Int16Array | None = None  # last skipped window, to warm Silero up on resume
        self.refresh_every = refresh_every
        self._run = 0  # consecutive skipped windows

    def _window(self, x: Int16Array) -> float:
        self.windows += 1
        above = self.gate.update(x)
        sure_silence = self.gate.level_db < self.quiet_dbfs or (
            above < self.gate.margin_db and not self._webrtc.is_speech(x[:480].tobytes(), SAMPLE_RATE)
        )
        if sure_silence:
            self._run += 1
            if self.refresh_every and self._run % self.refresh_every == 0:
                # Silero calibrates to the background through its recurrent state: starved of every
                # quiet window it under-rates the next speech (measured: -0.03 F1, pink 20 dB and impulses).
                self.silero.infer(x)
                self._prev = None
                return 0.0
            self.skipped += 1
            self.silero.decay()
            self._prev = x.copy()
            return 0.0
        self._run = 0
        if self._prev is not None:
            # Resuming after skipped windows: let the recurrent state hear the window just before, so
            # the onset is not judged by a model that last heard audio seconds ago.
            self.silero.infer(self._prev)
            self._prev = None
        return self.silero.infer(x)

    def reset(self) -> None:
        super().reset()
        self.silero.reset()
        self.gate.floor_db = None
        self._prev = None
