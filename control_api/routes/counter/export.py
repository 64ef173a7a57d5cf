"""`GET /api/export/xlsx` (seed 001's path): the counter report as an Excel workbook, org admins only.

``from`` and ``to`` are days (``YYYY-MM-DD``, both included) in ``ESCUTA_COUNTER_REPORT_TIMEZONE``,
between 1970-01-01 and 9999-12-30 (the day after ``to`` must still be a date); ``device`` narrows it to
one counter. The workbook is written to a temporary file while rows stream
from the database, then sent and deleted.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from control_api.deps import AppSettings, Pool
from control_api.errors import ApiError
from control_api.principals import OrgAdmin
from control_api.schemas.common import errors
from db import devices as devices_repo
from db.counter_report import Prices, write_report
from db.tenancy import tenant_connection

router = APIRouter(prefix="/api/export", tags=["counter"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DAYS = 400
DEFAULT_DAYS = 30
# Days outside these bounds would overflow Python's datetime once shifted by the timezone or a day.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9999, 12, 30)
WORKBOOK = {
    200: {
        "description": "The workbook: Resumo (per day and counter), Interações (per recommendation), Custos.",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
    },
    **errors(404),
}


@router.get("/xlsx", response_class=FileResponse, responses=WORKBOOK)
async def export_xlsx(
    admin: OrgAdmin,
    pool: Pool,
    settings: AppSettings,
    from_: Annotated[
        date | None,
        Query(
            alias="from",
            ge=FIRST_DAY,
            le=LAST_DAY,
            description="First day (default: 30 days before `to`).",
            openapi_examples={"january": {"summary": "January 2025", "value": "2025-01-01"}},
        ),
    ] = None,
    to: Annotated[
        date | None,
        Query(
            ge=FIRST_DAY,
            le=LAST_DAY,
            description="Last day, included (default: today).",
            openapi_examples={"january": {"summary": "January 2025", "value": "2025-01-31"}},
        ),
    ] = None,
    device: Annotated[uuid.UUID | None, Query(description="Only this counter device (404 if unknown).")] = None,
) -> FileResponse:
    tz = ZoneInfo(settings.counter.report_timezone)
    last = to or datetime.now(tz).date()
    first = from_ or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ApiError(400, "invalid_request", "from: must not be after to")
    if (last - first).days >= MAX_DAYS:
        raise ApiError(400, "invalid_request", f"the range is longer than {MAX_DAYS} days")
    start = datetime.combine(first, time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
    prices = Prices(settings.counter.price_stt_per_minute, settings.counter.price_llm_per_million_tokens)

    fd, name = tempfile.mkstemp(prefix="escuta-report-", suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    try:
        async with tenant_connection(pool, admin.org_id) as conn:
            if device is not None and not await devices_repo.device_exists(conn, admin.org_id, device):
                raise ApiError(404, "not_found", "no such device")
            await write_report(
                conn,
                admin.org_id,
                start=start,
                end=end,
                device_id=device,
                timezone=settings.counter.report_timezone,
                prices=prices,
                path=path,
            )
    except BaseException:
        path.unlink(missing_ok=True)  # noqa: ASYNC240 - one local unlink on the error path
        raise
    filename = f"escuta-balcao-{first.isoformat()}_{last.isoformat()}.xlsx"
    return FileResponse(
        path, media_type=XLSX, filename=filename, background=BackgroundTask(path.unlink, missing_ok=True)
    )
