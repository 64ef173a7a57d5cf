"""The counter view: recommendations history with filters, acceptance charts, the export, the catalog."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from control_api.console.render import Console, page_view
from db import console as repo
from db import counter as counter_repo
from db import devices
from db.tenancy import tenant_connection

router = APIRouter()
CATALOG_PAGE = 50


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
    view = await page_view(request)
    if not isinstance(view, Console):
        return view
    if view.org_id is None:
        return view.render("message.html", page="counter", message=view.t("error.no_org"))
    query = dict(request.query_params)
    flt, errors = history_filter(view, query)
    q = (query.get("q") or "").replace("\x00", "")[:100] or None  # PostgreSQL text holds no NUL
    org = view.org_id
    async with tenant_connection(request.app.state.pool, org) as conn:
        history = await repo.recommendation_history(conn, org, flt)
        by_product = await repo.acceptance_rates(conn, org, flt, "product")
        by_clerk = await repo.acceptance_rates(conn, org, flt, "clerk")
        device_rows = await devices.list_devices(conn, org)
        clerks = await repo.clerks(conn, org)
        page, count = await counter_repo.page_products(conn, org, query=q, limit=CATALOG_PAGE, offset=0, cursor=None)
        products = page.rows
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
        catalog_count=count,
        q=q,
        export_from=(today - timedelta(days=29)).isoformat(),
        export_to=today.isoformat(),
    )
