"""Seed 002's coach observability: `GET /feedback/debug/{meetingId}` and `GET /feedback/metrics/{meetingId}`.

Tenant-scoped like sessions: a member sees their organization's meetings; another organization's
meeting answers 404, as if it did not exist. The debug view is the latest level snapshot per
participant (speech coverage over 10 s, mean RMS over 3 s, EMA of RMS) as the agent stored it. Both add
`prosody`: the measure in use and any fallback from Hume (`ProsodyStatus` in control_api/schemas/coach.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from control_api.deps import Pool, SessionScope
from control_api.errors import ApiError
from control_api.schemas.coach import DebugView, MeetingMetrics, ProsodyStatus
from db import coach as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/feedback", tags=["feedback"])

MeetingId = Annotated[
    str,
    Path(
        description="The meeting (the LiveKit room sid).",
        openapi_examples={"seed": {"summary": "Seed 002's example", "value": "RM_123"}},
    ),
]


@router.get("/debug/{meeting_id}")
async def debug(meeting_id: MeetingId, pool: Pool, scope: SessionScope) -> DebugView:
    async with tenant_connection(pool, scope) as conn:
        if not await repo.meeting_known(conn, meeting_id, scope):
            raise ApiError(404, "not_found", f"no meeting with meetingId {meeting_id!r}")
        rows = await repo.debug_view(conn, meeting_id, scope)
        prosody = await repo.prosody_status(conn, meeting_id, scope)
    return DebugView.from_rows(meeting_id, rows, ProsodyStatus.of(prosody))


@router.get("/metrics/{meeting_id}")
async def metrics(meeting_id: MeetingId, pool: Pool, scope: SessionScope) -> MeetingMetrics:
    async with tenant_connection(pool, scope) as conn:
        if not await repo.meeting_known(conn, meeting_id, scope):
            raise ApiError(404, "not_found", f"no meeting with meetingId {meeting_id!r}")
        counts = await repo.metrics(conn, meeting_id, scope)
        prosody = await repo.prosody_status(conn, meeting_id, scope)
        tallies = await repo.prosody_counts(conn, meeting_id, scope) if prosody is not None else None
    return MeetingMetrics.of(meeting_id, counts, ProsodyStatus.of(prosody, tallies))
