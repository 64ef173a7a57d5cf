"""Voice ids are checked when an organization configures its avatar, never in the middle of a session.

Seed 000 shipped a voice-id validation test because a bad id only failed once a visitor was talking.
Here each provider's id has a format check, and where the provider has an API to look a voice up
(ElevenLabs: ``GET /v1/voices/{id}``) the id is looked up with the organization's own key.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx

TTS_PROVIDERS = ("elevenlabs", "openai", "hume")
# OpenAI's text-to-speech has a fixed set of built-in voices and no API to list them.
OPENAI_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse", "marin", "cedar"}
)
# ElevenLabs voice ids are 20 characters of [A-Za-z0-9] (e.g. "21m00Tcm4TlvDq8ikWAM").
_ELEVENLABS_ID = re.compile(r"^[A-Za-z0-9]{20}$")


class VoiceError(ValueError):
    """The voice cannot be used. ``code`` is the API error code; ``status`` the HTTP status to answer."""

    def __init__(self, code: str, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class VoiceCheck:
    provider: str
    voice_id: str
    verified_with_provider: bool  # False: only the format could be checked (no lookup API)
    name: str | None = None


def check_format(provider: str, voice_id: str) -> None:
    if provider not in TTS_PROVIDERS:
        raise VoiceError("unknown_tts_provider", f"ttsProvider must be one of {', '.join(TTS_PROVIDERS)}", status=400)
    if provider == "openai" and voice_id not in OPENAI_VOICES:
        raise VoiceError(
            "invalid_voice_id", f"voiceId {voice_id!r} is not an OpenAI voice ({', '.join(sorted(OPENAI_VOICES))})"
        )
    if provider == "elevenlabs" and not _ELEVENLABS_ID.fullmatch(voice_id):
        raise VoiceError("invalid_voice_id", "voiceId is not an ElevenLabs voice id (20 letters and digits)")
    if provider == "hume":
        try:
            uuid.UUID(voice_id)
        except ValueError:
            raise VoiceError("invalid_voice_id", "voiceId is not a Hume voice id (a UUID)") from None
        # The avatar job speaks through OpenAI or ElevenLabs only for now: refuse here, not mid-session.
        raise VoiceError("unsupported_tts_provider", "Hume voices are not supported by the avatar yet")


async def check_elevenlabs(voice_id: str, api_key: str, *, base_url: str, timeout_seconds: float) -> str | None:
    """Look the voice up with the organization's key; returns its name."""
    url = f"{base_url.rstrip('/')}/voices/{voice_id}"
    try:
        async with httpx.AsyncClient(timeout=timeout_seconds) as http:
            r = await http.get(url, headers={"xi-api-key": api_key})
    except httpx.HTTPError:
        raise VoiceError(
            "voice_check_unavailable", "ElevenLabs could not be reached to check the voice", status=502
        ) from None
    if r.status_code == 401:
        raise VoiceError(
            "invalid_credential", "ElevenLabs refused the organization's key (PUT /credentials/elevenlabs)"
        )
    if r.status_code in (400, 404):
        raise VoiceError("unknown_voice_id", f"ElevenLabs has no voice {voice_id!r} for this account")
    if r.status_code >= 300:
        raise VoiceError(
            "voice_check_unavailable", f"ElevenLabs answered {r.status_code} to the voice check", status=502
        )
    try:
        name = r.json().get("name")
    except ValueError:
        name = None
    return name if isinstance(name, str) else None
