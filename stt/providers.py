"""Building an organization's providers from settings and its stored credentials.

Each organization brings its own keys (no global fallback): a provider that needs a credential the
organization has not stored raises `MissingCredentialError`, and the job that needed it ends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from livekit.agents import NOT_GIVEN
from livekit.agents import stt as lk_stt

from core.settings import Settings

from .base import SpeechToText

# Provider name -> the credential it needs (None: none). Two ElevenLabs routes share one key.
CREDENTIAL_OF: dict[str, str | None] = {
    "local": None,
    "openai_compatible": None,
    "openai": "openai",
    "elevenlabs": "elevenlabs",
    "elevenlabs_realtime": "elevenlabs",
    "assemblyai": "assemblyai",
}

CredentialResolver = Callable[[str], Awaitable[str]]
"""Returns the organization's key for a credential name, or raises `MissingCredentialError`."""


class UnknownProviderError(ValueError):
    pass


def provider_order(settings: Settings, org_id: UUID | str | None) -> list[str]:
    order = settings.stt.providers_by_org.get(str(org_id)) if org_id else None
    names = list(order if order is not None else settings.stt.providers)
    unknown = [n for n in names if n not in CREDENTIAL_OF]
    if unknown:
        raise UnknownProviderError(f"unknown speech-to-text provider(s) {unknown}; expected {sorted(CREDENTIAL_OF)}")
    return names


def credentials_needed(names: list[str]) -> list[str]:
    return sorted({c for n in names if (c := CREDENTIAL_OF[n]) is not None})


def make_stt(name: str, settings: Settings, key: str | None) -> lk_stt.STT[Any]:
    """One livekit-agents STT for a provider name (plugins are imported only when used)."""
    lang = settings.stt.language or None
    if name == "local":
        from .local_whisper import WhisperSTT

        return WhisperSTT(
            model=settings.stt.local_model,
            compute_type=settings.stt.local_compute_type,
            cpu_threads=settings.stt.local_threads,
            concurrency=settings.stt.local_concurrency,
        )
    if name in ("openai", "openai_compatible"):
        from livekit.plugins import openai as lk_openai

        compatible = name == "openai_compatible"
        return lk_openai.STT(
            model=settings.stt.openai_compatible_model if compatible else settings.stt.openai_model,
            base_url=settings.stt.openai_compatible_base_url if compatible else settings.stt.openai_base_url,
            api_key=settings.stt.openai_compatible_api_key.get_secret_value() if compatible else (key or ""),
            language=lang or "en",
            detect_language=lang is None,
        )
    if name in ("elevenlabs", "elevenlabs_realtime"):
        from livekit.plugins import elevenlabs

        realtime = name == "elevenlabs_realtime"
        return elevenlabs.STT(
            api_key=key or "",
            base_url=settings.stt.elevenlabs_base_url,
            model=settings.stt.elevenlabs_realtime_model if realtime else settings.stt.elevenlabs_model,
            language_code=lang or NOT_GIVEN,
        )
    if name == "assemblyai":
        from livekit.plugins import assemblyai

        return assemblyai.STT(
            api_key=key or "",
            base_url=settings.stt.assemblyai_base_url,
            model=settings.stt.assemblyai_model,  # type: ignore[arg-type]  # a Literal in the plugin
        )
    raise UnknownProviderError(name)


async def build_providers(
    settings: Settings, org_id: UUID | str | None, resolve: CredentialResolver | None
) -> list[SpeechToText]:
    """The organization's providers in fallback order; every credential is resolved before any is built."""
    names = provider_order(settings, org_id)
    keys: dict[str, str] = {}
    for cred in credentials_needed(names):
        if resolve is None:
            from db.credentials import MissingCredentialError

            raise MissingCredentialError(str(org_id), cred)
        keys[cred] = await resolve(cred)
    providers = []
    for name in names:
        needed = CREDENTIAL_OF[name]
        stt = make_stt(name, settings, keys.get(needed) if needed else None)
        providers.append(SpeechToText(name, stt, language=settings.stt.language or None))
    return providers
