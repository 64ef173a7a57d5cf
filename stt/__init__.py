"""Speech-to-text behind one interface, with per-utterance provider fallback.

providers = await build_providers(settings, org_id, resolve)   # in the organization's order
chain = FallbackTranscriber(providers, attempt_timeout=..., cooldown=...)
outcome = await chain.transcribe(utterance.frame())             # Outcome: transcript or failure reason
"""

from __future__ import annotations

from .base import FailureKind, ProviderFailure, SpeechToText, Transcript
from .fallback import Attempt, FallbackTranscriber, Outcome, livekit_fallback
from .providers import CREDENTIAL_OF, UnknownProviderError, build_providers, make_stt, provider_order

__all__ = [
    "CREDENTIAL_OF",
    "Attempt",
    "FailureKind",
    "FallbackTranscriber",
    "Outcome",
    "ProviderFailure",
    "SpeechToText",
    "Transcript",
    "UnknownProviderError",
    "build_providers",
    "livekit_fallback",
    "make_stt",
    "provider_order",
]
