"""Prosody providers behind one base class (`ProsodyProvider`), chosen by `ESCUTA_COACH_PROSODY_PROVIDER`."""

from __future__ import annotations

from core.settings import Settings

from .base import ProsodyCapabilities, ProsodyProvider, ProsodyResult, ProsodyStatus, ProsodyStream, Utterance
from .local import LocalProsody

__all__ = [
    "LocalProsody",
    "ProsodyCapabilities",
    "ProsodyProvider",
    "ProsodyResult",
    "ProsodyStatus",
    "ProsodyStream",
    "Utterance",
    "build_prosody",
]


def build_prosody(settings: Settings, *, hume_api_key: str | None = None) -> ProsodyProvider | None:
    """The configured provider; `hume` needs the organization's key (the `hume` credential)."""
    match settings.coach.prosody_provider:
        case "off":
            return None
        case "local":
            return LocalProsody()
        case "hume":
            if not hume_api_key:
                raise ValueError("the hume prosody provider needs the organization's `hume` credential")
            from .hume import HumeProsody  # aiohttp only when used

            return HumeProsody(
                api_key=hume_api_key,
                url=settings.coach.hume_realtime_url,
                tail_s=settings.coach.hume_trailing_silence_seconds,
            )
    raise ValueError(settings.coach.prosody_provider)  # pragma: no cover
