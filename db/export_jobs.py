"""Excel export jobs (migration 0101) and the function an export process runs.

:func:`run_counter_export` is the entry point of a separate process (control_api/services/exports.py
starts it in a process pool): it opens its own connections, writes the workbook under the tenant's
scope and, for a job, reports progress and stores the result. Everything it takes is picklable.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from db.counter_report import Prices, Writer, count_rows, write_report
from db.pool import Conn, connect
from db.query import Keyset, Page, SortKey, Where, fetch_page
from db.tenancy import tenant_connection

# A queued or running job whose heartbeat (updated_at) is older than this was lost with its process.
STALE_SECONDS = 600
PROGRESS_EVERY_SECONDS = 0.5
CHUNK = 1 << 20  # the file is read back in chunks of this many bytes

_COLUMNS = (
    "id, org_id, kind, params, status, rows_done, rows_total, error, filename, size_bytes, created_at, updated_at,"
    " finished_at, (status IN ('queued', 'running') AND updated_at < now() - make_interval(secs => "
    f"{STALE_SECONDS})) AS lost"
)
JOBS = Keyset("export_jobs", (SortKey("created_at", "timestamptz", True), SortKey("id", "uuid", True)))


@dataclass(frozen=True)
class ExportSpec:
    """One counter report to write: the tenant, the range (UTC instants), the filters and the prices."""

    org_id: UUID
    start: datetime
    end: datetime
    device_id: UUID | None
    timezone: str
    stt_per_minute: dict[str, float]
    llm_per_million: dict[str, tuple[float, float]]
    first: date  # the days asked for (start and end are their bounds in UTC)
    last: date
    writer: Writer = "fast"


async def create_job(
    conn: Conn, org_id: UUID, *, params: dict[str, Any], filename: str, created_by: UUID | None
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"INSERT INTO export_jobs (org_id, params, filename, created_by) VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}",
        org_id,
        params,
        filename,
        created_by,
    )
    assert row is not None
    return row


async def active_jobs(conn: Conn, org_id: UUID) -> int:
    """Jobs of the organization still queued or running (lost ones excluded)."""
    n: int = await conn.fetchval(
        "SELECT count(*) FROM export_jobs WHERE org_id = $1 AND status IN ('queued', 'running')"
        f" AND updated_at >= now() - make_interval(secs => {STALE_SECONDS})",
        org_id,
    )
    return n


async def get_job(conn: Conn, org_id: UUID, job_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM export_jobs WHERE org_id = $1 AND id = $2", org_id, job_id)


async def list_jobs(conn: Conn, org_id: UUID, *, limit: int, cursor: str | None) -> Page:
    where = Where().org("org_id", org_id)
    return await fetch_page(
        conn, JOBS, select=f"SELECT {_COLUMNS} FROM export_jobs", where=where, limit=limit, cursor=cursor
    )


async def read_file_chunk(conn: Conn, org_id: UUID, job_id: UUID, offset: int) -> bytes | None:
    """``CHUNK`` bytes of a finished job's workbook from ``offset`` (b"" past the end; None: no such file)."""
    chunk: bytes | None = await conn.fetchval(
        "SELECT substring(file FROM $3::int + 1 FOR $4::int) FROM export_jobs"
        " WHERE org_id = $1 AND id = $2 AND status = 'done'",
        org_id,
        job_id,
        offset,
        CHUNK,
    )
    return chunk


async def fail_job(conn: Conn, org_id: UUID, job_id: UUID, error: str) -> None:
    """Mark a job failed unless it already finished (the export process may have got there first)."""
    await conn.execute(
        "UPDATE export_jobs SET status = 'failed', error = $3, updated_at = now(), finished_at = now()"
        " WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'running')",
        org_id,
        job_id,
        error[:500],
    )


# --- in the export process ------------------------------------------------------------------------------


class _Reporter:
    """Progress of a job, written on a connection of its own (the export's reads are one long transaction)."""

    def __init__(self, conn: asyncpg.Connection, org_id: UUID, job_id: UUID) -> None:
        self.conn, self.org_id, self.job_id = conn, org_id, job_id
        self.done = 0
        self._last = 0.0

    async def _set(self, sql: str, *args: Any) -> None:
        async with tenant_connection(self.conn, self.org_id) as c:
            await c.execute(sql, self.org_id, self.job_id, *args)

    async def start(self, total: int) -> None:
        await self._set(
            "UPDATE export_jobs SET status = 'running', rows_total = $3, updated_at = now()"
            " WHERE org_id = $1 AND id = $2 AND status = 'queued'",
            total,
        )

    async def advance(self, rows: int) -> None:
        self.done += rows
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_SECONDS:
            self._last = now
            await self._set(
                "UPDATE export_jobs SET rows_done = $3, updated_at = now() WHERE org_id = $1 AND id = $2", self.done
            )

    async def finish(self, path: Path) -> None:
        data = await asyncio.to_thread(path.read_bytes)
        await self._set(
            "UPDATE export_jobs SET status = 'done', rows_done = $3, file = $4, size_bytes = $5, updated_at = now(),"
            " finished_at = now() WHERE org_id = $1 AND id = $2 AND status = 'running'",
            self.done,
            data,
            len(data),
        )

    async def fail(self, error: str) -> None:
        async with tenant_connection(self.conn, self.org_id) as c:
            await fail_job(c, self.org_id, self.job_id, error)


async def _export(dsn: str, spec: ExportSpec, path: Path, job_id: UUID | None) -> int:
    conn = await connect(dsn)
    progress_conn = await connect(dsn) if job_id is not None else None
    reporter = _Reporter(progress_conn, spec.org_id, job_id) if progress_conn and job_id else None
    try:
        async with tenant_connection(conn, spec.org_id) as c:
            if reporter is not None:
                await reporter.start(await count_rows(c, spec.org_id, start=spec.start, end=spec.end,
                                                      device_id=spec.device_id))  # fmt: skip
            totals = await write_report(
                c,
                spec.org_id,
                start=spec.start,
                end=spec.end,
                device_id=spec.device_id,
                timezone=spec.timezone,
                prices=Prices(spec.stt_per_minute, spec.llm_per_million),
                path=path,
                writer=spec.writer,
                progress=reporter.advance if reporter is not None else None,
                offload=False,
            )
        if reporter is not None:
            await reporter.finish(path)
        return totals.interactions
    except Exception as exc:
        if reporter is not None:
            await reporter.fail(f"the export failed ({type(exc).__name__})")
        raise
    finally:
        await conn.close()
        if progress_conn is not None:
            await progress_conn.close()


def run_counter_export(dsn: str, spec: ExportSpec, path: str, job_id: UUID | None = None) -> int:
    """Write the workbook to ``path`` (and, for a job, store it and its progress); returns the interactions.

    Runs in an export process: its own event loop, its own connections.
    """
    return asyncio.run(_export(dsn, spec, Path(path), job_id))
