"""The clips view (streamers, bursts per day, presets) and the avatar view (credits, usage, triggers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from control_api.console.render import Console, page_view
from control_api.schemas.clips import PresetList
from db import avatar as avatar_repo
from db import clips, credits
from db import console as repo
from db.tenancy import tenant_connection

router = APIRouter()
CHART_DAYS = 30


def _days(today: date) -> list[date]:
    return [today - timedelta(days=CHART_DAYS - 1 - k) for k in range(CHART_DAYS)]


@router.get("/console/clips")
async def clips_page(request: Request) -> Response:
    """Streamers, bursts per day for each (Chart.js), and the monitoring presets."""
    view = await page_view(request)
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
    view = await page_view(request)
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
