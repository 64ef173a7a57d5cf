"""The live view (`/console/`, and `GET /` for browsers) and a session's page."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from control_api.console.render import Console, page_view
from control_api.console.timeline import load_timeline
from control_api.schemas.health import AgentWorkersStatus, WorkerHealth
from control_api.services.recordings import list_recordings
from db import agent_workers as agent_workers_repo
from db import console as repo
from db import scheduler as scheduler_repo
from db.migrate import pending
from db.tenancy import tenant_connection

router = APIRouter()


@router.get("/console")
async def console_root() -> Response:
    return RedirectResponse("/console/", status_code=308)


@router.get("/console/")
async def live(request: Request) -> Response:
    return await live_page(request)


async def live_page(request: Request) -> Response:
    """Rooms in progress and the service's status (also `GET /` for a browser: `app.state.console_page`)."""
    view = await page_view(request)
    if not isinstance(view, Console):
        return view
    pool = request.app.state.pool
    async with tenant_connection(pool, view.org_id) as conn:
        rooms = await repo.live_rooms(conn, view.org_id)
        recent = await repo.recent_sessions(conn, view.org_id)
    async with pool.acquire() as conn:  # platform tables, as `/health/ready` and `/health/worker` read them
        now, instances, lease, jobs = await scheduler_repo.status(conn)
        _, workers = await agent_workers_repo.live(conn, view.settings.worker.dead_after_seconds)
        missing = await pending(conn)
    detailed = bool(view.user and view.user.platform_admin)
    health = WorkerHealth.from_status(
        now,
        instances,
        lease,
        jobs,
        dead_after=view.settings.scheduler.dead_after_seconds,
        detailed=detailed,
        agents=AgentWorkersStatus.from_rows(
            workers, dead_after=view.settings.worker.dead_after_seconds, detailed=detailed
        ),
    )
    return view.render(
        "live.html",
        page="live",
        rooms=rooms,
        recent=recent,
        health=health,
        pending=missing,
        version=request.app.version,
        no_org=view.org_id is None and not (view.user and view.user.platform_admin),
    )


@router.get("/console/sessions/{meeting_id}")
async def session_page(meeting_id: str, request: Request) -> Response:
    view = await page_view(request)
    if not isinstance(view, Console):
        return view
    timeline = await load_timeline(request.app.state.pool, view.org_id, meeting_id[:256])
    if timeline is None:
        return view.render("message.html", status_code=404, page="session", message=view.t("error.not_found"))
    s = timeline.session
    # Only files of a session this organization can see (load_timeline is tenant-scoped, None otherwise).
    recordings = await asyncio.to_thread(
        list_recordings, view.settings.coach.recordings.dir, meeting_id, s["room_name"] if s else None
    )
    return view.render(
        "session.html",
        page="session",
        meeting_id=meeting_id,
        room_name=s["room_name"] if s else meeting_id,
        status=s["status"] if s else "",
        started_at=s["started_at"] if s else None,
        levels=timeline.level_chart(),
        recordings=recordings,
        **timeline.fragments(),
    )
