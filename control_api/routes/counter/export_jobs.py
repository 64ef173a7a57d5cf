"""Export jobs: the counter report produced in the background, with progress a console can show.

``POST /api/export/xlsx/jobs`` (same query as ``GET /api/export/xlsx``) answers 202 with the job at once;
``GET .../jobs/{id}`` polls it; ``GET .../jobs/{id}/file`` streams the workbook once ``done``. Jobs belong
to the organization (another organization's job answers 404) and are kept with their file in PostgreSQL,
so any API process can answer for them. A job's failure is stored on it (``status: failed``, ``error``),
including a process that died mid-way (no progress for 10 minutes).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from control_api.deps import AppSettings, Pool
from control_api.errors import ApiError
from control_api.principals import OrgAdmin
from control_api.schemas.common import errors
from control_api.schemas.exports import ExportDevice, ExportFrom, ExportJob, ExportJobList, ExportTo
from control_api.schemas.formats import CursorQuery
from control_api.services.exports import Exporter, database_url, report_spec, require_device
from db import export_jobs as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/api/export/xlsx/jobs", tags=["counter"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Jobs an organization may have queued or running at once: exports are the API's most expensive work.
MAX_ACTIVE_JOBS = 3


@router.post("", status_code=202, responses=errors(404, 429, 503))
async def create_job(
    admin: OrgAdmin,
    pool: Pool,
    settings: AppSettings,
    request: Request,
    from_: ExportFrom = None,
    to: ExportTo = None,
    device: ExportDevice = None,
) -> ExportJob:
    spec, filename = report_spec(settings, admin.org_id, from_, to, device)
    dsn = database_url(settings)
    params = {"from": spec.first.isoformat(), "to": spec.last.isoformat(), "device": str(device) if device else None}
    async with tenant_connection(pool, admin.org_id) as conn:
        await require_device(conn, admin.org_id, device)
        if await repo.active_jobs(conn, admin.org_id) >= MAX_ACTIVE_JOBS:
            raise ApiError(429, "too_many_exports", f"{MAX_ACTIVE_JOBS} exports are already running; wait for one")
        row = await repo.create_job(conn, admin.org_id, params=params, filename=filename, created_by=admin.user_id)
    exporter: Exporter = request.app.state.exporter
    exporter.start_job(pool, dsn, spec, row["id"])
    return ExportJob.from_row(row)


@router.get("")
async def list_jobs(
    admin: OrgAdmin, pool: Pool, limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: CursorQuery = None
) -> ExportJobList:
    """The organization's export jobs, newest first."""
    async with tenant_connection(pool, admin.org_id) as conn:
        page = await repo.list_jobs(conn, admin.org_id, limit=limit, cursor=cursor)
    return ExportJobList(items=[ExportJob.from_row(r) for r in page.rows], nextCursor=page.next_cursor)


@router.get("/{job_id}", responses=errors(404))
async def get_job(job_id: uuid.UUID, admin: OrgAdmin, pool: Pool) -> ExportJob:
    async with tenant_connection(pool, admin.org_id) as conn:
        row = await repo.get_job(conn, admin.org_id, job_id)
    if row is None:
        raise ApiError(404, "not_found", "no such export job")
    return ExportJob.from_row(row)


@router.get(
    "/{job_id}/file",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The workbook.", "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
        **errors(404, 409),
    },
)
async def job_file(job_id: uuid.UUID, admin: OrgAdmin, pool: Pool) -> StreamingResponse:
    """The finished workbook (409 while the job is not `done`), streamed in chunks from the database."""
    async with tenant_connection(pool, admin.org_id) as conn:
        row = await repo.get_job(conn, admin.org_id, job_id)
    if row is None:
        raise ApiError(404, "not_found", "no such export job")
    job = ExportJob.from_row(row)
    if job.status != "done":
        raise ApiError(409, "not_ready", f"the export job is {job.status}" + (f": {job.error}" if job.error else ""))
    org = admin.org_id

    async def chunks() -> AsyncIterator[bytes]:
        offset = 0
        while True:
            async with tenant_connection(pool, org) as conn:
                chunk = await repo.read_file_chunk(conn, org, job_id, offset)
            if not chunk:
                return
            offset += len(chunk)
            yield chunk

    headers = {"Content-Disposition": f'attachment; filename="{job.filename}"'}
    if job.sizeBytes is not None:
        headers["Content-Length"] = str(job.sizeBytes)
    return StreamingResponse(chunks(), media_type=XLSX, headers=headers)
