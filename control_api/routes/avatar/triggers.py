"""The avatar's media triggers (seed 000, "gatilhos de mídia") and `POST /context/resolve`.

A trigger is a set of phrases; when the conversation says one, the avatar shows its media. The same
normalisation runs here and in the agent (core/avatar/triggers.py), so a phrase stored here matches live.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, field_validator

from control_api.deps import CurrentPrincipal, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from core.avatar.triggers import Trigger, normalize, resolve
from db import avatar as repo
from db.tenancy import tenant_connection

router = APIRouter(tags=["avatar"])


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
    async with tenant_connection(pool, user.org_id) as conn:
        rows = await repo.list_triggers(conn, user.org_id)
    return {"items": [repo.trigger_json(r) for r in rows]}


@router.post("/avatar/triggers", status_code=201)
async def create_trigger(body: TriggerBody, admin: OrgAdmin, pool: Pool) -> dict[str, Any]:
    async with tenant_connection(pool, admin.org_id) as conn:
        if any(r["name"] == body.name for r in await repo.list_triggers(conn, admin.org_id)):
            raise ApiError(409, "conflict", f"a trigger named {body.name!r} exists")
        return repo.trigger_json(await repo.insert_trigger(conn, admin.org_id, body.values()))


@router.get("/avatar/triggers/{trigger_id}")
async def get_trigger(trigger_id: str, user: OrgMember, pool: Pool) -> dict[str, Any]:
    async with tenant_connection(pool, user.org_id) as conn:
        row = await repo.get_trigger(conn, user.org_id, _trigger_id(trigger_id))
    if row is None:
        raise ApiError(404, "not_found", "no such trigger")
    return repo.trigger_json(row)


@router.put("/avatar/triggers/{trigger_id}")
async def update_trigger(trigger_id: str, body: TriggerBody, admin: OrgAdmin, pool: Pool) -> dict[str, Any]:
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
