"""The avatar's configuration and media triggers (issue 10, seed 000), and `POST /context/resolve`.

`PUT /avatar/config` checks the voice before storing it (seed 000's voice-id validation): a malformed
or unknown id answers 4xx now, instead of failing once a visitor is talking. ElevenLabs voices are
looked up with the organization's own ElevenLabs key, never a platform one.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, field_validator

from control_api.deps import AppSettings, CurrentPrincipal, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from db import avatar as repo
from db.credentials import MissingCredentialError, resolve_credential
from db.tenancy import tenant_connection
from escuta.avatar.triggers import Trigger, normalize, resolve
from escuta.avatar.voices import VoiceError, check_elevenlabs, check_format

router = APIRouter(tags=["avatar"])


class VoiceBody(BaseModel):
    ttsProvider: Literal["elevenlabs", "openai", "hume"]
    voiceId: str = Field(min_length=1, max_length=128)


class ConfigBody(BaseModel):
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


def _voice_error(exc: VoiceError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


@router.get("/avatar/config")
async def get_config(user: OrgMember, pool: Pool) -> dict[str, Any]:
    assert user.org_id is not None
    async with tenant_connection(pool, user.org_id) as conn:
        row = await repo.get_config(conn, user.org_id)
    if row is None:
        raise ApiError(404, "not_found", "the avatar is not configured (PUT /avatar/config)")
    return repo.config_json(row)


@router.put("/avatar/config")
async def put_config(body: ConfigBody, admin: OrgAdmin, pool: Pool, settings: AppSettings) -> dict[str, Any]:
    assert admin.org_id is not None
    provider, voice_id = body.voice.ttsProvider, body.voice.voiceId
    try:
        check_format(provider, voice_id)
        if provider == "elevenlabs":
            try:
                key = await resolve_credential(pool, admin.org_id, "elevenlabs", settings=settings)
            except MissingCredentialError:
                raise ApiError(
                    400,
                    "missing_credential",
                    "an ElevenLabs voice needs the organization's ElevenLabs key first (PUT /credentials/elevenlabs)",
                ) from None
            await check_elevenlabs(
                voice_id,
                key,
                base_url=settings.avatar_elevenlabs_base_url,
                timeout_seconds=settings.avatar_voice_check_timeout_seconds,
            )
    except VoiceError as exc:
        raise _voice_error(exc) from None
    values = {
        "avatar_id": body.avatarId,
        "instructions": body.instructions,
        "language": body.language,
        "tts_provider": provider,
        "voice_id": voice_id,
        "greeting": body.greeting,
    }
    async with tenant_connection(pool, admin.org_id) as conn:
        return repo.config_json(await repo.put_config(conn, admin.org_id, values))


@router.delete("/avatar/config")
async def delete_config(admin: OrgAdmin, pool: Pool) -> dict[str, str]:
    assert admin.org_id is not None
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await repo.delete_config(conn, admin.org_id):
            raise ApiError(404, "not_found", "the avatar is not configured")
    return {"status": "deleted"}


# --- media triggers ------------------------------------------------------------------------------------


class MediaBody(BaseModel):
    type: Literal["image", "video", "link"]
    url: str = Field(pattern=r"^https?://\S+$", max_length=2048)
    title: str = Field(min_length=1, max_length=200)
    displaySeconds: int = Field(10, ge=1, le=3600)


class TriggerBody(BaseModel):
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


def _trigger_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(404, "not_found", "no such trigger") from None


@router.get("/avatar/triggers")
async def list_triggers(user: OrgMember, pool: Pool) -> dict[str, Any]:
    assert user.org_id is not None
    async with tenant_connection(pool, user.org_id) as conn:
        rows = await repo.list_triggers(conn, user.org_id)
    return {"items": [repo.trigger_json(r) for r in rows]}


@router.post("/avatar/triggers", status_code=201)
async def create_trigger(body: TriggerBody, admin: OrgAdmin, pool: Pool) -> dict[str, Any]:
    assert admin.org_id is not None
    async with tenant_connection(pool, admin.org_id) as conn:
        if any(r["name"] == body.name for r in await repo.list_triggers(conn, admin.org_id)):
            raise ApiError(409, "conflict", f"a trigger named {body.name!r} exists")
        return repo.trigger_json(await repo.insert_trigger(conn, admin.org_id, body.values()))


@router.get("/avatar/triggers/{trigger_id}")
async def get_trigger(trigger_id: str, user: OrgMember, pool: Pool) -> dict[str, Any]:
    assert user.org_id is not None
    async with tenant_connection(pool, user.org_id) as conn:
        row = await repo.get_trigger(conn, user.org_id, _trigger_id(trigger_id))
    if row is None:
        raise ApiError(404, "not_found", "no such trigger")
    return repo.trigger_json(row)


@router.put("/avatar/triggers/{trigger_id}")
async def update_trigger(trigger_id: str, body: TriggerBody, admin: OrgAdmin, pool: Pool) -> dict[str, Any]:
    assert admin.org_id is not None
    tid = _trigger_id(trigger_id)
    async with tenant_connection(pool, admin.org_id) as conn:
        if any(r["name"] == body.name and r["id"] != tid for r in await repo.list_triggers(conn, admin.org_id)):
            raise ApiError(409, "conflict", f"a trigger named {body.name!r} exists")
        row = await repo.update_trigger(conn, admin.org_id, tid, body.values())
    if row is None:
        raise ApiError(404, "not_found", "no such trigger")
    return repo.trigger_json(row)


@router.delete("/avatar/triggers/{trigger_id}", status_code=204)
async def delete_trigger(trigger_id: str, admin: OrgAdmin, pool: Pool) -> Response:
    assert admin.org_id is not None
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await repo.delete_trigger(conn, admin.org_id, _trigger_id(trigger_id)):
            raise ApiError(404, "not_found", "no such trigger")
    return Response(status_code=204)


class ResolveBody(BaseModel):
    text: str = Field(min_length=1, max_length=10000)


@router.post("/context/resolve")
async def context_resolve(body: ResolveBody, principal: CurrentPrincipal, pool: Pool) -> dict[str, Any]:
    """Seed 000's route: the media the caller's triggers resolve ``text`` to (no cooldown: a pure lookup)."""
    async with tenant_connection(pool, principal.org_id) as conn:
        rows = await repo.list_triggers(conn, principal.org_id, enabled_only=True)
    matches = [m.event("api") for m in resolve([Trigger.from_row(r) for r in rows], body.text)]
    return {"matched": bool(matches), "media": matches[0]["media"] if matches else None, "matches": matches}
