"""The console's views: live rooms and service status, a session's timeline, the counter, administration."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from control_api.console.render import Console, SignInRequired, console, to_login
from control_api.schemas.clips import PresetList
from control_api.schemas.health import WorkerHealth
from core.settings import PROVIDERS
from db import accounts, clips, credentials, credits, devices, solutions
from db import avatar as avatar_repo
from db import coach as coach_repo
from db import console as repo
from db import counter as counter_repo
from db import scheduler as scheduler_repo
from db import sessions as sessions_repo
from db import transcription as transcription_repo
from db.migrate import pending
from db.tenancy import tenant_connection

router = APIRouter()
PROFILE_SUGGESTIONS = ("transcription", "counter", "coach", "avatar")
CATALOG_PAGE = 50


async def _view(request: Request) -> Console | Response:
    try:
        return await console(request)
    except SignInRequired:
        return to_login(request)


@router.get("/console")
async def console_root() -> Response:
    return RedirectResponse("/console/", status_code=308)


@router.get("/console/")
async def live(request: Request) -> Response:
    return await live_page(request)


async def live_page(request: Request) -> Response:
    """Rooms in progress and the service's status (also `GET /` for a browser: `app.state.console_page`)."""
    view = await _view(request)
    if not isinstance(view, Console):
        return view
    pool = request.app.state.pool
    async with tenant_connection(pool, view.org_id) as conn:
        rooms = await repo.live_rooms(conn, view.org_id)
        recent = await repo.recent_sessions(conn, view.org_id)
    async with pool.acquire() as conn:  # platform tables, as `/health/ready` and `/health/worker` read them
        now, instances, lease, jobs = await scheduler_repo.status(conn)
        missing = await pending(conn)
    health = WorkerHealth.from_status(
        now,
        instances,
        lease,
        jobs,
        dead_after=view.settings.scheduler.dead_after_seconds,
        detailed=bool(view.user and view.user.platform_admin),
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


@dataclass
class Timeline:
    session: Any
    participants: list[Any]
    transcript: list[Any]
    speakers: list[str]
    feedback: list[Any]
    coach: coach_repo.MeetingCounts
    recommendations: list[Any]
    levels: list[Any]

    def fragments(self) -> dict[str, Any]:
        return {
            "participants": self.participants,
            "transcript": self.transcript,
            "speakers": self.speakers,
            "feedback": self.feedback,
            "coach": self.coach,
            "recommendations": self.recommendations,
        }

    def level_chart(self) -> dict[str, Any] | None:
        """Each participant's level (dBFS) and the coach's feedback on the session clock, for Chart.js."""
        if not self.levels:
            return None
        start = self.session["started_at"] if self.session else self.levels[0]["at"]
        series: dict[str, list[list[float]]] = {}
        for r in self.levels:
            series.setdefault(r["participant_id"], []).append(
                [round((r["at"] - start).total_seconds(), 1), round(r["mean_rms_dbfs"], 1)]
            )
        marks = [
            {"x": round((f["sent_at"] - start).total_seconds(), 1), "type": f["type"], "who": f["participant_id"]}
            for f in self.feedback
        ]
        return {"series": series, "feedback": marks}


async def load_timeline(pool: Any, org_id: uuid.UUID | None, meeting_id: str) -> Timeline | None:
    async with tenant_connection(pool, org_id) as conn:
        rows = await sessions_repo.get_session(conn, meeting_id, org_id)
        transcript = await transcription_repo.list_transcript(conn, meeting_id, org_id)
        if rows is None and not transcript:
            return None
        feedback = await repo.meeting_feedback(conn, meeting_id, org_id)
        coach = await coach_repo.metrics(conn, meeting_id, org_id)
        recs = await repo.meeting_recommendations(conn, meeting_id, org_id) if org_id else []
        levels = await repo.meeting_levels(conn, meeting_id, org_id)
    speakers = list(dict.fromkeys(u["participant_identity"] for u in transcript))
    return Timeline(
        rows.session if rows else None,
        rows.participants if rows else [],
        transcript,
        speakers,
        feedback,
        coach,
        recs,
        levels,
    )


@router.get("/console/sessions/{meeting_id}")
async def session_page(meeting_id: str, request: Request) -> Response:
    view = await _view(request)
    if not isinstance(view, Console):
        return view
    timeline = await load_timeline(request.app.state.pool, view.org_id, meeting_id[:256])
    if timeline is None:
        return view.render("message.html", status_code=404, page="session", message=view.t("error.not_found"))
    s = timeline.session
    return view.render(
        "session.html",
        page="session",
        meeting_id=meeting_id,
        room_name=s["room_name"] if s else meeting_id,
        status=s["status"] if s else "",
        started_at=s["started_at"] if s else None,
        levels=timeline.level_chart(),
        **timeline.fragments(),
    )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def history_filter(view: Console, query: dict[str, str]) -> tuple[repo.HistoryFilter, dict[str, str]]:
    """The counter's filters from the query string, and a message per field that is wrong."""
    errors: dict[str, str] = {}
    device = None
    if query.get("device"):
        try:
            device = uuid.UUID(query["device"])
        except ValueError:
            errors["device"] = view.t("error.not_found")
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:
            days[name] = _day(query.get(name))
        except ValueError:
            errors[name] = "AAAA-MM-DD" if view.lang == "pt-BR" else "YYYY-MM-DD"
    first, last = days.get("from"), days.get("to")
    if first and last and first > last:
        errors["to"] = "≥ " + first.isoformat()
    tz = ZoneInfo(view.settings.counter.report_timezone)
    since = datetime.combine(first, time(), tz).astimezone(UTC) if first and "from" not in errors else None
    until = (
        datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC) if last and "to" not in errors else None
    )
    feedback = query.get("feedback") if query.get("feedback") in ("accepted", "rejected", "none") else None
    flt = repo.HistoryFilter(
        device_id=device,
        clerk=(query.get("clerk") or None),
        product=(query.get("product") or "")[:100] or None,
        feedback=feedback,
        since=since,
        until=until,
    )
    return flt, errors


def _chart(rates: list[repo.Rate], view: Console) -> dict[str, Any]:
    rows = [r for r in rates if r.rate is not None]
    return {
        "labels": [r.label or view.t("common.empty") for r in rows],
        "rates": [round(100 * (r.rate or 0), 1) for r in rows],
        "details": [f"{r.accepted}/{r.answered} ({r.total})" for r in rows],
    }


@router.get("/console/counter")
async def counter_page(request: Request) -> Response:
    view = await _view(request)
    if not isinstance(view, Console):
        return view
    if view.org_id is None:
        return view.render("message.html", page="counter", message=view.t("error.no_org"))
    query = dict(request.query_params)
    flt, errors = history_filter(view, query)
    q = (query.get("q") or "")[:100] or None
    org = view.org_id
    async with tenant_connection(request.app.state.pool, org) as conn:
        history = await repo.recommendation_history(conn, org, flt)
        by_product = await repo.acceptance_rates(conn, org, flt, "product")
        by_clerk = await repo.acceptance_rates(conn, org, flt, "clerk")
        device_rows = await devices.list_devices(conn, org)
        clerks = await repo.clerks(conn, org)
        products, total = await counter_repo.list_products(conn, org, query=q, limit=CATALOG_PAGE)
    today = datetime.now(ZoneInfo(view.settings.counter.report_timezone)).date()
    return view.render(
        "counter.html",
        page="counter",
        values=query,
        errors=errors,
        history=history,
        charts={
            "label": view.t("counter.rate"),
            "product": _chart(by_product, view),
            "clerk": _chart(by_clerk, view),
        },
        devices=device_rows,
        clerks=clerks,
        products=products,
        catalog_total=total,
        q=q,
        export_from=(today - timedelta(days=29)).isoformat(),
        export_to=today.isoformat(),
    )


@router.get("/console/admin")
async def admin_page(request: Request) -> Response:
    view = await _view(request)
    if not isinstance(view, Console):
        return view
    if view.org_id is None:
        return view.render("message.html", page="admin", message=view.t("error.no_org"))
    org = view.org_id
    async with tenant_connection(request.app.state.pool, org) as conn:
        members = await accounts.list_members(conn, org)
        device_rows = await devices.list_devices(conn, org)
        keys = await devices.list_publishable_keys(conn, org)
        creds = await credentials.list_credentials(conn, org)
        sols = await solutions.list_solutions(conn, org)
    return view.render(
        "admin.html",
        page="admin",
        members=members,
        devices=device_rows,
        keys=keys,
        credentials=creds,
        solutions=sols,
        providers=PROVIDERS,
        profiles=PROFILE_SUGGESTIONS,
    )


CHART_DAYS = 30


def _days(today: date) -> list[date]:
    return [today - timedelta(days=CHART_DAYS - 1 - k) for k in range(CHART_DAYS)]


@router.get("/console/clips")
async def clips_page(request: Request) -> Response:
    """Streamers, bursts per day for each (Chart.js), and the monitoring presets."""
    view = await _view(request)
    if not isinstance(view, Console):
        return view
    if view.org_id is None:
        return view.render("message.html", page="clips", message=view.t("error.no_org"))
    tz = view.settings.counter.report_timezone
    today = datetime.now(ZoneInfo(tz)).date()
    days = _days(today)
    since = datetime.combine(days[0], time(), ZoneInfo(tz)).astimezone(UTC)
    async with tenant_connection(request.app.state.pool, view.org_id) as conn:
        streamers = await clips.list_streamers(conn, view.org_id)
        per_day = await repo.bursts_per_day(conn, view.org_id, since, tz)
    series: dict[str, list[int]] = {}
    for r in per_day:
        series.setdefault(r["streamer"], [0] * CHART_DAYS)[(r["day"] - days[0]).days] = r["bursts"]
    chart = {"labels": [d.strftime("%d/%m") for d in days], "series": series, "label": view.t("clips.bursts")}
    return view.render("clips.html", page="clips", streamers=streamers, chart=chart, presets=PresetList.all().items)


@router.get("/console/avatar")
async def avatar_page(request: Request) -> Response:
    """The credit balance, usage per day (Chart.js), the ledger and the media triggers."""
    view = await _view(request)
    if not isinstance(view, Console):
        return view
    if view.org_id is None:
        return view.render("message.html", page="avatar", message=view.t("error.no_org"))
    tz = view.settings.counter.report_timezone
    days = _days(datetime.now(ZoneInfo(tz)).date())
    since = datetime.combine(days[0], time(), ZoneInfo(tz)).astimezone(UTC)
    async with tenant_connection(request.app.state.pool, view.org_id) as conn:
        balance = await credits.balance(conn, view.org_id)
        usage = await credits.usage_by_period(conn, view.org_id, since, "day", tz)
        ledger = await credits.ledger(conn, view.org_id, 20)
        triggers = await avatar_repo.list_triggers(conn, view.org_id)
    spent = [0.0] * CHART_DAYS
    minutes = [0.0] * CHART_DAYS
    for r in usage:
        k = (r["period"].date() - days[0]).days
        if 0 <= k < CHART_DAYS:
            spent[k] = float(r["credits"])
            minutes[k] = round(float(r["avatar_seconds"]) / 60, 1)
    chart = {
        "labels": [d.strftime("%d/%m") for d in days],
        "credits": spent,
        "minutes": minutes,
        "credits_label": view.t("avatar.credits_used"),
        "minutes_label": view.t("avatar.minutes"),
    }
    return view.render("avatar.html", page="avatar", balance=balance, chart=chart, ledger=ledger, triggers=triggers)


def _origins(url: str) -> tuple[str, ...]:
    """The LiveKit server's websocket origin and its http(s) twin (the client validates a failed join)."""
    parts = urlsplit(url)
    secure = parts.scheme in ("wss", "https")
    host = parts.netloc
    return (f"{'wss' if secure else 'ws'}://{host}", f"{'https' if secure else 'http'}://{host}")


@router.get("/console/try")
async def try_page(request: Request) -> Response:
    """Join one of the organization's solutions from the browser (livekit-client, shipped with the page)."""
    view = await _view(request)
    if not isinstance(view, Console):
        return view
    if view.org_id is None:
        return view.render("message.html", page="try", message=view.t("error.no_org"))
    async with tenant_connection(request.app.state.pool, view.org_id) as conn:
        sols = await solutions.list_solutions(conn, view.org_id)
    url = view.settings.livekit.frontend_url()
    return view.render("try.html", page="try", solutions=sols, connect=_origins(url))
