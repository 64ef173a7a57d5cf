"""Speech-to-text behind one interface, with per-utterance provider fallback.

providers = await build_providers(settings, org_id, resolve, language="pt-BR")   # the org's order, for the room
chain = FallbackTranscriber(providers, attempt_timeout=..., cooldown=...)
outcome = await chain.transcribe(utterance.frame())             # Outcome: transcript or failure reason
"""

from __future__ import annotations

from .base import REJECTIONS, FailureKind, ProviderFailure, SpeechToText, Transcript
from .fallback import Attempt, FallbackTranscriber, Outcome, livekit_fallback
from .languages import LanguageUnsupportedError, Route
from .providers import (
    CREDENTIAL_OF,
    UnknownProviderError,
    build_providers,
    make_stt,
    provider_order,
    usable_routes,
)

__all__ = [
    "CREDENTIAL_OF",
    "REJECTIONS",
    "Attempt",
    "FailureKind",
    "FallbackTranscriber",
    "LanguageUnsupportedError",
    "Outcome",
    "ProviderFailure",
    "Route",
    "SpeechToText",
    "Transcript",
    "UnknownProviderError",
    "build_providers",
    "livekit_fallback",
    "make_stt",
    "provider_order",
    "usable_routes",
]
