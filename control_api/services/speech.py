"""What speech-to-text can do for a language: the data behind `/health/stt`, `/organization/language`
and the solutions' `speechToText` field (the console shows it; a refusal is never discovered by silence)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core.language import is_english
from core.settings import Settings
from stt import CREDENTIAL_OF, UnknownProviderError, provider_order
from stt.languages import ENGLISH_ONLY, WHISPER_LANGUAGES, bundled_models, model_languages, plan
from stt.models import upcoming_shutdowns

OFFLINE_ENGLISH_ONLY = (
    "Offline transcription (the `local` provider) is English-only here: Portuguese and every other language "
    "need a cloud speech-to-text provider key (elevenlabs, openai or assemblyai)."
)


def effective_language(settings: Settings, *levels: str | None) -> str | None:
    """The first language set among `levels` (solution, organization), else the platform's default."""
    for language in levels:
        if language:
            return language
    return settings.stt.language or None


def stt_status(settings: Settings, org_id: UUID | str | None, language: str | None) -> dict[str, Any]:
    """Whether a room in `language` can be transcribed with the organization's providers, and by which."""
    try:
        names = provider_order(settings, org_id)
    except UnknownProviderError as exc:
        return {"language": language, "supported": False, "providers": [], "reason": str(exc)}
    routes = plan(names, settings.stt, language)
    supported = any(r.supported for r in routes)
    return {
        "language": language,
        "supported": supported,
        "providers": [
            {"name": r.provider, "model": r.model, "supported": r.supported, "reason": r.reason or None} for r in routes
        ],
        "reason": None
        if supported
        else f"no configured speech-to-text provider transcribes {language}: jobs in this language are refused",
    }


def offline_status(settings: Settings) -> dict[str, Any]:
    """What the `local` provider hears without any cloud key: models installed, languages covered."""
    installed = bundled_models()
    english = settings.stt.local_model
    multilingual = settings.stt.local_multilingual_model
    languages: set[str] = set(model_languages("local", english) or ())
    # A name a package ships must be installed to count; paths and hub names are the operator's business.
    multilingual_ready = bool(multilingual) and installed.get(multilingual, True)
    if multilingual_ready:
        languages |= model_languages("local", multilingual) or set()
    if not installed.get(english, True):
        languages -= {"en"} if english.endswith(".en") else set(WHISPER_LANGUAGES)
    english_only = languages <= {"en"}
    # Answers of an English-only model are checked for another language by the multilingual one (Portuguese
    # to tiny.en can come back as fluent English): said here so a platform without the check knows it.
    check = (
        settings.stt.local_language_check and model_languages("local", english) == ENGLISH_ONLY and multilingual_ready
    )
    return {
        "models": {
            "english": {"name": english, "installed": installed.get(english)},
            "multilingual": {
                "name": multilingual or None,
                "installed": installed.get(multilingual) if multilingual else None,
            },
        },
        "languages": sorted(languages),
        "portuguese": "pt" in languages,
        "englishLanguageCheck": {"active": bool(check), "model": multilingual if check else None},
        "note": OFFLINE_ENGLISH_ONLY if english_only else None,
    }


def platform_stt(settings: Settings) -> dict[str, Any]:
    """`/health/stt`: no tenant data, only what the platform's settings allow."""
    language = settings.stt.language or None
    providers = []
    for name in CREDENTIAL_OF:
        routes = {lang: plan([name], settings.stt, lang)[0] for lang in ("en", "pt-BR")}
        providers.append(
            {
                "name": name,
                "credential": CREDENTIAL_OF[name],
                "models": {"english": routes["en"].model, "otherLanguages": routes["pt-BR"].model},
                "portuguese": routes["pt-BR"].supported,
            }
        )
    offline = offline_status(settings)
    default_order = stt_status(settings, None, language)
    shutdowns = [
        {
            "setting": s.setting,
            "provider": s.provider,
            "model": s.model,
            "shutdown": s.shutdown.isoformat(),
            "daysLeft": s.days_left,
        }
        for s in upcoming_shutdowns(settings)
    ]
    healthy = default_order["supported"] and not any(s.days_left < 0 for s in upcoming_shutdowns(settings))
    return {
        "status": "ok" if healthy else "degraded",
        "defaultLanguage": language,
        "defaultLanguageIsEnglish": language is None or is_english(language),
        "defaultOrder": default_order,
        "offline": offline,
        "providers": providers,
        "modelShutdowns": shutdowns,
    }
