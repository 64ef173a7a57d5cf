"""Seed 000's avatar: its configuration, media triggers, `POST /context/resolve` and `GET /new`."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from asyncpg import Record
from pydantic import BaseModel, ConfigDict, Field, field_validator

from control_api.schemas.common import Timestamp
from control_api.schemas.formats import NEXT_CURSOR_DESCRIPTION, RequestBody
from core.avatar.triggers import Match, normalize

TtsProvider = Literal["elevenlabs", "openai", "hume"]
MediaType = Literal["image", "video", "link"]

MEDIA_EXAMPLE: dict[str, Any] = {
    "type": "image",
    "url": "https://cdn.example.com/promo-vitamina-c.png",
    "title": "Vitamina C: leve 2, pague 1",
    "displaySeconds": 10,
}
CONFIG_EXAMPLE: dict[str, Any] = {
    "avatarId": "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a",
    "instructions": "Você é a Lia, atendente virtual da loja. Responda em português, com frases curtas.",
    "language": "pt-BR",
    "voice": {"ttsProvider": "openai", "voiceId": "coral"},
    "greeting": "Olá! Eu sou a Lia. Como posso ajudar?",
}


# --- configuration -------------------------------------------------------------------------------


class VoiceBody(RequestBody):
    ttsProvider: TtsProvider
    voiceId: str = Field(min_length=1, max_length=128)


class ConfigBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [CONFIG_EXAMPLE]})

    avatarId: str = Field(min_length=1, max_length=64)
    instructions: str = Field("", max_length=20000)
    language: str = Field("pt-BR", pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")
    voice: VoiceBody
    greeting: str | None = Field(None, max_length=1000)

    @field_validator("avatarId")
    @classmethod
    def _uuid(cls, value: str) -> str:
        try:
            return str(uuid.UUID(value))  # LiveAvatar avatar ids are UUIDs
        except ValueError:
            raise ValueError("must be a LiveAvatar avatar id (a UUID)") from None


class Voice(BaseModel):
    ttsProvider: TtsProvider
    voiceId: str


class AvatarConfig(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **CONFIG_EXAMPLE,
                    "createdAt": "2025-03-14T18:05:09.123456+00:00",
                    "updatedAt": "2025-03-14T18:05:09.123456+00:00",
                }
            ]
        }
    )

    avatarId: str
    instructions: str
    language: str
    voice: Voice
    greeting: str | None
    createdAt: Timestamp
    updatedAt: Timestamp

    @classmethod
    def from_row(cls, row: Record) -> AvatarConfig:
        return cls(
            avatarId=row["avatar_id"],
            instructions=row["instructions"],
            language=row["language"],
            voice=Voice(ttsProvider=row["tts_provider"], voiceId=row["voice_id"]),
            greeting=row["greeting"],
            createdAt=row["created_at"],
            updatedAt=row["updated_at"],
        )


class AvatarConfigDeleted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "deleted"}]})

    status: Literal["deleted"]


# --- media triggers ------------------------------------------------------------------------------


class MediaBody(RequestBody):
    type: MediaType
    url: str = Field(pattern=r"^https?://\S+$", max_length=2048)
    title: str = Field(min_length=1, max_length=200)
    displaySeconds: int = Field(10, ge=1, le=3600)


class TriggerBody(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "promo-vitamina-c",
                    "phrases": ["vitamina c", "imunidade"],
                    "media": MEDIA_EXAMPLE,
                    "cooldownSeconds": 120,
                    "enabled": True,
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=100)
    phrases: list[str] = Field(min_length=1, max_length=50)
    media: MediaBody
    cooldownSeconds: int | None = Field(None, ge=0, le=86400)
    enabled: bool = True

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, value: list[str]) -> list[str]:
        cleaned = [p.strip() for p in value]
        if any(not normalize(p) or len(p) > 200 for p in cleaned):
            raise ValueError("each phrase needs a letter or digit and at most 200 characters")
        return cleaned

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "phrases": self.phrases,
            "media_type": self.media.type,
            "media_url": self.media.url,
            "title": self.media.title,
            "display_seconds": self.media.displaySeconds,
            "cooldown_seconds": self.cooldownSeconds,
            "enabled": self.enabled,
        }


class Media(BaseModel):
    """What the frontend shows when a trigger fires."""

    type: MediaType
    url: str
    title: str
    displaySeconds: int


TRIGGER_EXAMPLE: dict[str, Any] = {
    "id": "9a3c1f0e-2b4d-4e6f-8a1b-3c5d7e9f1a2b",
    "name": "promo-vitamina-c",
    "phrases": ["vitamina c", "imunidade"],
    "media": MEDIA_EXAMPLE,
    "cooldownSeconds": 120,
    "enabled": True,
    "createdAt": "2025-03-14T18:05:09.123456+00:00",
    "updatedAt": "2025-03-14T18:05:09.123456+00:00",
}


class Trigger(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [TRIGGER_EXAMPLE]})

    id: uuid.UUID
    name: str
    phrases: list[str]
    media: Media
    cooldownSeconds: int | None = Field(description="Null: the platform's default cooldown.")
    enabled: bool
    createdAt: Timestamp
    updatedAt: Timestamp

    @classmethod
    def from_row(cls, row: Record) -> Trigger:
        return cls(
            id=row["id"],
            name=row["name"],
            phrases=list(row["phrases"]),
            media=Media(
                type=row["media_type"],
                url=row["media_url"],
                title=row["title"],
                displaySeconds=row["display_seconds"],
            ),
            cooldownSeconds=row["cooldown_seconds"],
            enabled=row["enabled"],
            createdAt=row["created_at"],
            updatedAt=row["updated_at"],
        )


class TriggerList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [TRIGGER_EXAMPLE]}]})

    items: list[Trigger] = Field(description="By name.")
    nextCursor: str | None = Field(None, description=NEXT_CURSOR_DESCRIPTION)


class ContextResolveBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Vocês têm vitamina C em promoção?"}]})

    text: str = Field(min_length=1, max_length=10000)


class MediaEvent(BaseModel):
    """A trigger that matched: the same `media` event the frontend receives live."""

    type: Literal["media"]
    triggerId: str
    trigger: str = Field(description="The trigger's name.")
    phrase: str = Field(description="The configured phrase that matched.")
    source: Literal["api"] = Field(description="Always `api` here (live events say who spoke).")
    media: Media

    @classmethod
    def of(cls, match: Match) -> MediaEvent:
        return cls.model_validate(match.event("api"))


class ContextResolution(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "matched": True,
                    "media": MEDIA_EXAMPLE,
                    "matches": [
                        {
                            "type": "media",
                            "triggerId": "9a3c1f0e-2b4d-4e6f-8a1b-3c5d7e9f1a2b",
                            "trigger": "promo-vitamina-c",
                            "phrase": "vitamina c",
                            "source": "api",
                            "media": MEDIA_EXAMPLE,
                        }
                    ],
                }
            ]
        }
    )

    matched: bool
    media: Media | None = Field(description="The first match's media (null when nothing matched).")
    matches: list[MediaEvent] = Field(description="Every trigger that matched, in order of appearance in the text.")


# --- GET /new ------------------------------------------------------------------------------------


class NewSession(BaseModel):
    """What `POST /token` answers, for the organization's avatar solution: join ``room`` at ``url``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                    "room": "Lia-8b0c6f1e-2a47-4a4e-9d0b-7f1c3e5a9b21-visitor-3f9a1c2e7b4d",
                    "identity": "Lia-8b0c6f1e-2a47-4a4e-9d0b-7f1c3e5a9b21-visitor-3f9a1c2e7b4d",
                    "apiKey": "APInroTUR7mKwUm",
                    "url": "wss://livekit.example.com",
                }
            ]
        }
    )

    token: str = Field(description="A LiveKit access token for the room.")
    room: str
    identity: str
    apiKey: str = Field(description="The LiveKit API key the token was signed with (not a secret).")
    url: str = Field(description="The LiveKit server to connect to.")
