"""The avatar's configuration (issue 10, seed 000): avatar, instructions, language and voice.

`PUT /avatar/config` checks the voice before storing it (seed 000's voice-id validation): a malformed
or unknown id answers 4xx now, instead of failing once a visitor is talking. ElevenLabs voices are
looked up with the organization's own ElevenLabs key, never a platform one.
"""

from __future__ import annotations

from fastapi import APIRouter

from control_api.deps import AppSettings, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.schemas.avatar import AvatarConfig, AvatarConfigDeleted, ConfigBody
from control_api.schemas.common import errors
from control_api.services.avatar_voices import VoiceError, check_elevenlabs, check_format
from db import avatar as repo
from db.credentials import MissingCredentialError, resolve_credential
from db.tenancy import tenant_connection

router = APIRouter(tags=["avatar"])


def _voice_error(exc: VoiceError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


@router.get("/avatar/config", responses=errors(404))
async def get_config(user: OrgMember, pool: Pool) -> AvatarConfig:
    async with tenant_connection(pool, user.org_id) as conn:
        row = await repo.get_config(conn, user.org_id)
    if row is None:
        raise ApiError(404, "not_found", "the avatar is not configured (PUT /avatar/config)")
    return AvatarConfig.from_row(row)


# 422: the voice id is malformed or unknown to its provider; 502: ElevenLabs could not be asked.
@router.put("/avatar/config", responses=errors(422, 502))
async def put_config(body: ConfigBody, admin: OrgAdmin, pool: Pool, settings: AppSettings) -> AvatarConfig:
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
                base_url=settings.avatar.elevenlabs_base_url,
                timeout_seconds=settings.avatar.voice_check_timeout_seconds,
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
        return AvatarConfig.from_row(await repo.put_config(conn, admin.org_id, values))


@router.delete("/avatar/config", responses=errors(404))
async def delete_config(admin: OrgAdmin, pool: Pool) -> AvatarConfigDeleted:
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await repo.delete_config(conn, admin.org_id):
            raise ApiError(404, "not_found", "the avatar is not configured")
    return AvatarConfigDeleted(status="deleted")
