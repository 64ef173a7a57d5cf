"""Voice activity detectors behind one base class: Silero, webrtcvad with an energy gate, and a cascade."""

from __future__ import annotations

from .base import VADCapabilities, VoiceDetector
from .cascade import CascadeVAD
from .silero import SileroModel, SileroVAD, load_silero
from .webrtc import EnergyGate, WebRTCVAD

__all__ = [
    "CascadeVAD",
    "EnergyGate",
    "SileroModel",
    "SileroVAD",
    "VADCapabilities",
    "VoiceDetector",
    "WebRTCVAD",
    "load_silero",
]
