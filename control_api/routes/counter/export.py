"""`GET /api/export/xlsx` (seed 001's path): the counter report as an Excel workbook, org admins only.

``from`` and ``to`` are days (``YYYY-MM-DD``, both included) in ``ESCUTA_COUNTER_REPORT_TIMEZONE``,
between 1970-01-01 and 9999-12-30 (the day after ``to`` must still be a date); ``device`` narrows it to
one counter. The workbook is written by an export process (control_api/services/exports.py) to a
temporary file while rows stream from the database, then sent and deleted. For a long range, a job
(`POST /api/export/xlsx/jobs`, routes/counter/export_jobs.py) shows progress instead of a long wait.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from control_api.deps import AppSettings, Pool
from control_api.errors import ApiError
from control_api.principals import OrgAdmin
from control_api.schemas.common import errors
from control_api.schemas.exports import ExportDevice, ExportFrom, ExportTo
from control_api.services.exports import Exporter, ExportFailed, database_url, report_spec, require_device
from db.tenancy import tenant_connection

router = APIRouter(prefix="/api/export", tags=["counter"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK = {
    200: {
        "description": "The workbook: Resumo (per day and counter), Interações (per recommendation), Custos.",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
    },
    **errors(404, 503),
}


@router.get("/xlsx", response_class=FileResponse, responses=WORKBOOK)
async def export_xlsx(
    admin: OrgAdmin,
    pool: Pool,
    settings: AppSettings,
    request: Request,
    from_: ExportFrom = None,
    to: ExportTo = None,
    device: ExportDevice = None,
) -> FileResponse:
    spec, filename = report_spec(settings, admin.org_id, from_, to, device)
    dsn = database_url(settings)
    if device is not None:
        async with tenant_connection(pool, admin.org_id) as conn:
            await require_device(conn, admin.org_id, device)
    exporter: Exporter = request.app.state.exporter
    fd, name = tempfile.mkstemp(prefix="escuta-report-", suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    try:
        await exporter.to_file(dsn, spec, path)
    except ExportFailed as exc:
        path.unlink(missing_ok=True)  # noqa: ASYNC240 - one local unlink on the error path
        raise ApiError(503, "export_failed", str(exc)) from exc
    except BaseException:
        path.unlink(missing_ok=True)  # noqa: ASYNC240 - one local unlink on the error path
        raise
    return FileResponse(
        path, media_type=XLSX, filename=filename, background=BackgroundTask(path.unlink, missing_ok=True)
    )
