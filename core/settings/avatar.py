"""The avatar (seed 000): LiveAvatar and the providers it talks through, and the usage credits' prices."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from core.settings.base import Section


class CreditSettings(Section):
    prefix: ClassVar[str] = "credit_"

    price_avatar_minute: float = Field(1.0, ge=0, description="Credits per avatar minute (LiveAvatar LITE).")
    price_stt_second: float = Field(0.002, ge=0, description="Credits per second of speech-to-text audio.")
    price_llm_1k_tokens: float = Field(0.01, ge=0, description="Credits per 1,000 LLM tokens (in + out).")
    price_tts_1k_characters: float = Field(0.05, ge=0, description="Credits per 1,000 characters of text-to-speech.")
    check_interval_seconds: float = Field(
        15.0, gt=0, description="How often a running avatar session re-checks the organization's balance."
    )
    warning_seconds: float = Field(
        60.0, ge=0, description="A running session is warned when its remaining credit covers less than this."
    )


class AvatarSettings(Section):
    prefix: ClassVar[str] = "avatar_"

    liveavatar_api_url: str = Field(
        "https://api.liveavatar.com/v1/sessions",
        description="LiveAvatar sessions API (`/token`, `/start`, `/stop`); tests point it at a stub.",
    )
    elevenlabs_base_url: str = Field(
        "https://api.elevenlabs.io/v1", description="ElevenLabs API base: voice checks and text-to-speech."
    )
    openai_base_url: str = Field(
        "https://api.openai.com/v1", description="OpenAI-compatible API base for the avatar's LLM and OpenAI voices."
    )
    llm_model: str = Field("gpt-4.1-mini", description="LLM the avatar converses with.")
    voice_check_timeout_seconds: float = Field(
        5.0, gt=0, description="Longest a voice-id check against the provider may take at configuration time."
    )
    media_cooldown_seconds: float = Field(
        30.0, ge=0, description="Default time before the same media trigger may fire again in one session."
    )
    participant_identity: str = Field(
        "liveavatar-avatar-agent", description="Identity of the avatar participant LiveAvatar joins with."
    )
    usage_reconcile_interval_seconds: float = Field(
        300.0, gt=0, description="How often the scheduler records usage of avatar sessions whose agent crashed."
    )
    credits: CreditSettings = CreditSettings()
