"""The per-participant audio chain: entrance → levels → (noise reduction) → VAD → segmentation.

One `AudioChain` per participant track; the Silero model is loaded once per process (`load_silero`, call it
in the worker's prewarm) and passed to every chain. `push()` is synchronous and costs tens of microseconds
per 20 ms frame, so the worker calls it inline from its frame loop; no executor hop, no task per stream.

    chain = AudioChain(AudioChainConfig(), vad_model=proc.userdata["vad"])
    async for ev in rtc.AudioStream.from_track(track=t, sample_rate=16000, num_channels=1):
        for event in chain.push(ev.frame): ...
    for event in chain.close(): ...

Ask `rtc.AudioStream` for 16 kHz mono: the entrance is then a zero-copy view, while converting 48 kHz
stereo here costs ~0.003 CPU s per audio s, more than the rest of the chain. Call `gc.freeze()` after
prewarm: a full collection over livekit-agents' objects stalls every stream in the process for ~100 ms,
which the real-time benchmark saw as p99 lag.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from livekit import rtc

from core.settings.audio import AudioChainConfig

from .background import BackgroundSpeechGate, BackgroundTuning
from .denoise import StreamingDenoiser
from .events import AudioEvent, SpeechEnded
from .frames import SAMPLE_RATE, FrameEntrance, Int16Array
from .levels import LevelMeter
from .segmenter import Segmenter
from .vad.base import VoiceDetector
from .vad.cascade import CascadeVAD
from .vad.silero import SileroModel, SileroVAD, load_silero
from .vad.webrtc import WebRTCVAD


def build_detector(config: AudioChainConfig, vad_model: SileroModel | None = None) -> VoiceDetector:
    if config.vad == "webrtc":
        return WebRTCVAD(mode=config.webrtc_mode)
    model = vad_model or load_silero(config.silero_backend)
    return SileroVAD(model) if config.vad == "silero" else CascadeVAD(model)


class AudioChain:
    def __init__(
        self,
        config: AudioChainConfig | None = None,
        *,
        vad_model: SileroModel | None = None,
        detector: VoiceDetector | None = None,
        clock_offset: float = 0.0,
        background_tuning: BackgroundTuning | None = None,
    ) -> None:
        self.config = cfg = config or AudioChainConfig()
        self.entrance = FrameEntrance()
        self.levels = (
            LevelMeter(
                ema_time_constant_s=cfg.ema_time_constant_s,
                mean_window_s=cfg.mean_window_s,
                coverage_window_s=cfg.coverage_window_s,
                snapshot_interval_s=cfg.snapshot_interval_s,
            )
            if cfg.levels
            else None
        )
        self.denoiser = StreamingDenoiser() if cfg.denoise_enabled else None
        self.detector = detector or build_detector(cfg, vad_model)
        self.segmenter = Segmenter(
            activation=cfg.activation,
            deactivation=cfg.deactivation,
            min_speech_s=cfg.min_speech_s,
            min_silence_s=cfg.min_silence_s,
            pre_roll_s=cfg.pre_roll_s,
            post_roll_s=cfg.post_roll_s,
            max_utterance_s=cfg.max_utterance_s,
            trim_tail=cfg.trim_tail,
            clock_offset=clock_offset,
        )
        self.background = (
            BackgroundSpeechGate(self.detector.window_samples, background_tuning, activation=cfg.activation)
            if cfg.background_enabled
            else None
        )
        self._offset = clock_offset
        self._samples = 0
        self._closed = False

    @property
    def time(self) -> float:
        """Stream time of the end of the audio pushed so far."""
        return self._offset + self._samples / SAMPLE_RATE

    def push(self, frame: rtc.AudioFrame) -> list[AudioEvent]:
        """Feed one frame (8/16/24/48 kHz, mono/stereo, whole 10 ms); returns the events it completed."""
        return self._process(self.entrance.convert(frame))

    def push_float(self, samples: npt.NDArray[np.floating], sample_rate: int) -> list[AudioEvent]:
        """Feed float audio in [-1, 1]; NaN/inf samples are replaced by silence."""
        return self._process(self.entrance.convert_float(samples, sample_rate))

    def close(self) -> list[AudioEvent]:
        """End of stream: drain the denoiser, close an open utterance, emit a last level snapshot."""
        if self._closed:
            return []
        self._closed = True
        events: list[AudioEvent] = []
        if self.denoiser is not None:
            events += self._detect(self.denoiser.flush())
        events += [self._judged(e) for e in self.segmenter.close()]
        if self.levels is not None and self.levels.samples:
            events.append(self.levels.snapshot(self.time, self.segmenter.speaking))
        return events

    def _process(self, x: Int16Array) -> list[AudioEvent]:
        if self._closed:
            raise RuntimeError("push() after close()")
        if len(x) == 0:
            return []
        self._samples += len(x)
        if self.levels is not None:
            self.levels.process(x)
        self.segmenter.add_audio(x)
        y = self.denoiser.process(x) if self.denoiser is not None else x
        events = self._detect(y) if len(y) else []
        if self.levels is not None and self.levels.due():
            events.append(self.levels.snapshot(self.time, self.segmenter.speaking))
        return events

    def _detect(self, y: Int16Array) -> list[AudioEvent]:
        events: list[AudioEvent] = []
        seg, w, bg = self.segmenter, self.detector.window_samples, self.background
        if bg is not None:
            bg.push(y)
        for p in self.detector.process(y):
            start = seg.pos
            if bg is None:
                events += seg.add_window(w, p)
            else:
                events += seg.add_window(w, bg.gate(p, seg.speaking), lead=bg.lead * w)
                if bg.retract:
                    events += seg.retract()  # a loud TV syllable had reopened the utterance's closing pause
                if bg.established and seg.speaking:
                    # Background speech has just been recognised inside the open utterance (the TV was on when
                    # the stream began): its head was the TV, the participant starts where their level does.
                    cut = bg.cut_point(seg.utterance_start // w)
                    if cut is not None:
                        events += seg.cut_head(cut * w)
            if self.levels is not None:
                self.levels.mark_speech(w, w if seg.last_window_speech else 0)
            if self.denoiser is not None and not seg.speaking and p < seg.deactivation:
                self.denoiser.learn_noise_range(start, start + w)
        return [self._judged(e) for e in events] if bg is not None else events

    def _judged(self, event: AudioEvent) -> AudioEvent:
        if self.background is None or not isinstance(event, SpeechEnded):
            return event
        first = round((event.start - self._offset) * SAMPLE_RATE)
        last = round((event.end - self._offset) * SAMPLE_RATE)
        return replace(event, background=self.background.verdict(first, last))


async def stream_events(chain: AudioChain, frames: AsyncIterable[rtc.AudioFrame]) -> AsyncIterator[AudioEvent]:
    """Async convenience: run `frames` through `chain` and yield its events, closing it at the end."""
    async for frame in frames:
        for ev in chain.push(frame):
            yield ev
    for ev in chain.close():
        yield ev
