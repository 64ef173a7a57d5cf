"""Spoken-language tags: what an organization or a solution says its people speak.

Escuta stores a BCP 47-style tag with an optional region (`pt-BR`, `en`, `en-US`, `es`); each
speech-to-text provider is then told the language in its own terms, which for every provider Escuta
speaks to is the ISO 639-1 base (`pt`, `en`): see `stt/languages.py`.
"""

from __future__ import annotations

import re

DEFAULT_ORG_LANGUAGE = "pt-BR"
"""What an organization made through `/cadastro` speaks unless told otherwise (Escuta's first users)."""

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")
TAG_PATTERN = r"^[A-Za-z]{2,3}([-_]([A-Za-z]{2}|[0-9]{3}))?$"
"""The tags the API accepts (before normalisation): a 2-3 letter language, optionally a region."""


class InvalidLanguage(ValueError):
    pass


def normalize(tag: str) -> str:
    """`pt_br`, `PT-br` → `pt-BR`; `EN` → `en`. Raises `InvalidLanguage` for anything else."""
    m = _TAG.match(tag.strip())
    if m is None:
        raise InvalidLanguage(f"not a language tag: {tag!r} (expected e.g. 'pt-BR' or 'en')")
    lang, region = m.group(1).lower(), m.group(2)
    return f"{lang}-{region.upper()}" if region else lang


def base(tag: str) -> str:
    """The language without its region: `pt-BR` → `pt`."""
    return normalize(tag).split("-")[0]


def is_english(tag: str | None) -> bool:
    return tag is not None and base(tag) == "en"


def same_language(a: str, b: str) -> bool:
    """`pt-BR` and `pt` are the same language; `pt` and `es` are not. ISO 639-2/3 codes some
    providers answer with (`por`, `eng`) count as their 639-1 equivalent."""
    return _iso1(base(a)) == _iso1(base(b))


# The three-letter codes providers answer with for the languages Escuta's users speak (ElevenLabs
# Scribe answers `por`, `eng`, ...). Anything else is compared as given.
_ISO3_TO_1 = {
    "por": "pt",
    "eng": "en",
    "spa": "es",
    "fra": "fr",
    "fre": "fr",
    "deu": "de",
    "ger": "de",
    "ita": "it",
    "nld": "nl",
    "dut": "nl",
    "cmn": "zh",
    "zho": "zh",
    "jpn": "ja",
    "rus": "ru",
    "ara": "ar",
    "hin": "hi",
}


def _iso1(code: str) -> str:
    return _ISO3_TO_1.get(code, code)
