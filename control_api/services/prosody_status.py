"""The prosody part of `GET /feedback/debug` and `/feedback/metrics` (issue 21): which measure a meeting's
coach uses, and whether and why it fell back from Hume to the local measure.

    {"requested": "hume", "provider": "local", "fallback": "hume_refused",
     "detail": "key refused: HTTP 403", "since": "2026-12-04T21:00:03+00:00"}

`fallback` is null while the meeting is measured as it was set up; `since` is when the measure in use
started. The metrics add how many prosody results each provider produced and how many feedback events
were produced under each measure (`off`: prosody off, or events stored before this was recorded).
`prosody` itself is null for a meeting whose coach recorded no status (prosody off, or an older agent).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from db import coach as repo
from db.pool import Conn


async def prosody_view(
    conn: Conn, meeting_id: str, org_id: UUID | None, *, with_counts: bool = False
) -> dict[str, Any] | None:
    status = await repo.prosody_status(conn, meeting_id, org_id)
    if status is None:
        return None
    view: dict[str, Any] = {
        "requested": status.requested,
        "provider": status.provider,
        "fallback": status.fallback,
        "detail": status.detail,
        "since": status.at.isoformat(),
    }
    if with_counts:
        results, events = await repo.prosody_counts(conn, meeting_id, org_id)
        view["results"] = results
        view["events"] = events
    return view
