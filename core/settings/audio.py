"""The per-participant audio chain's configuration, declared once: the `ESCUTA_AUDIO_*` settings are the
chain's own config object (`AudioChainConfig`), and a profile overrides what it needs (`updated`).
Defaults come from `bench/audio_core.py` (docs/audio-core.md)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from core.settings.base import Section

DetectorName = Literal["silero", "webrtc", "cascade"]
BackgroundMode = Literal["auto", "on", "off"]
SileroBackend = Literal["native", "onnx"]
# Where the benchmark showed noise reduction raising F1; "auto" turns it on only for these detectors.
DENOISE_HELPS: frozenset[str] = frozenset({"webrtc"})


class AudioChainConfig(Section):
    """What a profile chooses for its listeners."""

    prefix: ClassVar[str] = "audio_"
    flat_names: ClassVar[dict[str, str]] = {
        "min_silence_s": "audio_min_silence_seconds",
        "max_utterance_s": "audio_max_utterance_seconds",
    }
    # The rest are the stages' tuning, fixed by the benchmark rather than configured per deployment.
    settings_fields: ClassVar[frozenset[str] | None] = frozenset(
        {"vad", "silero_backend", "denoise", "min_silence_s", "max_utterance_s", "background"}
    )

    vad: DetectorName = Field(
        "silero",
        description="Default voice activity detector of the per-participant audio chain "
        "(see `bench/audio_core.py`); profiles may override it.",
    )
    silero_backend: SileroBackend = Field(
        "native",
        description="Silero runtime: `native` (livekit-local-inference, ~6x cheaper) or `onnx` (onnxruntime).",
    )
    webrtc_mode: int = Field(3, ge=0, le=3)
    denoise: Literal["off", "on", "auto"] = Field(
        "auto",
        description="Streaming noise reduction (noisereduce, +160 ms latency): `auto` = only for detectors "
        "it was measured to help (webrtc).",
    )
    background: BackgroundMode = Field(
        "auto",
        description="Background-speech stage (TV, radio, other desks behind the participant; "
        "docs/audio-core.md): `auto` = on for the profiles that ask for it (counter, meeting coach), "
        "`on` / `off` for every profile.",
    )
    levels: bool = True
    activation: float = Field(0.5, gt=0, le=1)
    deactivation: float = Field(0.35, gt=0, le=1)
    min_speech_s: float = Field(0.05, ge=0)
    min_silence_s: float = Field(
        0.55, gt=0, description="Pause that closes an utterance (shorter cuts more, also inside sentences)."
    )
    pre_roll_s: float = Field(0.3, ge=0)
    post_roll_s: float = Field(0.1, ge=0)
    max_utterance_s: float = Field(
        30.0, gt=0, description="Longer utterances are split at their quietest point."
    )  # the segmenter also requires > 2 x min_silence_s
    trim_tail: bool = True  # end at the last window >= activation; bench: F1 >= the plugin's rule in every row
    snapshot_interval_s: float = Field(1.0, gt=0)
    ema_time_constant_s: float = Field(0.5, gt=0)
    mean_window_s: float = Field(3.0, gt=0)
    coverage_window_s: float = Field(10.0, gt=0)

    @property
    def background_enabled(self) -> bool:
        """The chain runs the stage unless it is `off` (a profile resolves `auto` first; see `Profile`)."""
        return self.background != "off"

    @property
    def denoise_enabled(self) -> bool:
        return self.denoise == "on" or (self.denoise == "auto" and self.vad in DENOISE_HELPS)
