"""Seed 002's coach observability: `GET /feedback/debug/{meetingId}` and `GET /feedback/metrics/{meetingId}`.

Tenant-scoped like sessions: a member sees their organization's meetings; another organization's
meeting answers 404, as if it did not exist. The debug view is the latest level snapshot per
participant (speech coverage over 10 s, mean RMS over 3 s, EMA of RMS) as the agent stored it. Both add
`prosody`: the measure in use and any fallback from Hume (control_api/services/prosody_status.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from control_api.deps import Pool, SessionScope
from control_api.errors import ApiError
from control_api.services.prosody_status import prosody_view
from db import coach as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/feedback", tags=["feedback"])


@router.get("/debug/{meeting_id}")
async def debug(meeting_id: str, pool: Pool, scope: SessionScope) -> dict[str, Any]:
    async with tenant_connection(pool, scope) as conn:
        if not await repo.meeting_known(conn, meeting_id, scope):
            raise ApiError(404, "not_found", f"no meeting with meetingId {meeting_id!r}")
        participants = await repo.debug_view(conn, meeting_id, scope)
        prosody = await prosody_view(conn, meeting_id, scope)
    return {"meetingId": meeting_id, "participants": participants, "prosody": prosody}


@router.get("/metrics/{meeting_id}")
async def metrics(meeting_id: str, pool: Pool, scope: SessionScope) -> dict[str, Any]:
    async with tenant_connection(pool, scope) as conn:
        if not await repo.meeting_known(conn, meeting_id, scope):
            raise ApiError(404, "not_found", f"no meeting with meetingId {meeting_id!r}")
        answer = await repo.metrics(conn, meeting_id, scope)
        answer["prosody"] = await prosody_view(conn, meeting_id, scope, with_counts=True)
        return answer
