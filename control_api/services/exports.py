"""Excel exports in export processes, off the API's event loop and GIL (issue 20.2).

Writing a workbook of a hundred thousand rows is seconds of pure-Python CPU; on threads of the API
process it held the GIL and every other request waited (``/token`` p99 x40). Here it runs in a small
pool of separate processes (``ESCUTA_COUNTER_EXPORT_PROCESSES``, started on first use with ``spawn``:
forking a process that runs an event loop and threads is unsafe). The API process only awaits the result.

Two ways in: ``GET /api/export/xlsx`` (seed 001's download) waits for its export and streams the file;
``POST /api/export/xlsx/jobs`` returns a job at once, whose progress and file any API process can serve
(db/export_jobs.py keeps both in PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import tempfile
import threading
import time as time_module
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from control_api.errors import ApiError
from core.settings import Settings
from db import devices as devices_repo
from db import export_jobs as repo
from db.export_jobs import ExportSpec, run_counter_export
from db.pool import Conn
from db.tenancy import tenant_connection

log = logging.getLogger("escuta.exports")


class ExportFailed(RuntimeError):
    """The export process failed or died; the message names no row data."""


EXPORT_NICENESS = 10
# One pool per process size, shared by the apps of this process (tests build many); its processes end
# with this one (concurrent.futures joins them at exit).
_POOLS: dict[int, ProcessPoolExecutor] = {}


_POOLS_LOCK = threading.Lock()  # pools are looked up from worker threads (see Exporter.to_file)


def _pool(processes: int, *, renew: bool = False) -> ProcessPoolExecutor:
    with _POOLS_LOCK:
        if renew or processes not in _POOLS:
            _POOLS[processes] = ProcessPoolExecutor(
                processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=watch_parent,
                initargs=(os.getpid(),),
            )
        return _POOLS[processes]


def watch_parent(parent: int) -> None:
    """In an export process: yield the CPU to the API, and exit when the API process is gone.

    An export is background work: at a lower priority it takes the cores the API leaves idle, and
    requests keep their latency when the cores are busy. The API process, if killed, cannot shut its
    pool down; its export processes notice and exit.
    """
    os.nice(EXPORT_NICENESS)
    # Not Linux's idle class: on a machine whose other work never lets a core idle (`escuta run`'s agent
    # worker decoding audio, say) an idle-class export would barely advance; at niceness 10 it keeps a
    # small, bounded share (measured: idle class 7-8 s vs 4.8-5.0 s for 100k rows beside other work, and
    # no better `/token` p99; bench/export_xlsx.py).

    def watch() -> None:
        while os.getppid() == parent:
            time_module.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="escuta-export-parent-watch", daemon=True).start()


def process_priority() -> tuple[int, int]:
    """(scheduling policy, niceness) of the calling process: what an export process runs at."""
    return os.sched_getscheduler(0), os.nice(0)


def shutdown_pools() -> None:
    """Stop the export processes (the API process is shutting down)."""
    for pool in _POOLS.values():
        pool.shutdown(wait=False, cancel_futures=True)
    _POOLS.clear()


class Exporter:
    """The export processes of one API process, and the jobs it is running."""

    def __init__(self, processes: int) -> None:
        self._processes = processes
        self._tasks: set[asyncio.Task[None]] = set()

    async def to_file(self, dsn: str, spec: ExportSpec, path: Path, job_id: UUID | None = None) -> int:
        """Write the workbook to ``path`` in an export process; the interactions written."""
        try:
            # Submitted from a thread: the first submit starts the export process (fork and exec of this
            # large process, tens of ms), which on the event loop stalled every request in flight.
            future = await asyncio.to_thread(
                lambda: _pool(self._processes).submit(run_counter_export, dsn, spec, str(path), job_id)
            )
            return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            # A process died (killed, out of memory): the next export gets a fresh pool.
            _pool(self._processes, renew=True)
            raise ExportFailed("the export process stopped") from exc
        except Exception as exc:
            raise ExportFailed(f"the export failed ({type(exc).__name__})") from exc

    def start_job(self, pool: asyncpg.Pool, dsn: str, spec: ExportSpec, job_id: UUID) -> None:
        """Run a stored job in the background; whatever happens, the job ends done or failed."""
        task = asyncio.create_task(self._run_job(pool, dsn, spec, job_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_job(self, pool: asyncpg.Pool, dsn: str, spec: ExportSpec, job_id: UUID) -> None:
        fd, name = tempfile.mkstemp(prefix="escuta-export-", suffix=".xlsx")
        path = Path(name)
        os.close(fd)
        try:
            await self.to_file(dsn, spec, path, job_id)
        except (ExportFailed, asyncio.CancelledError) as exc:
            reason = str(exc) if isinstance(exc, ExportFailed) else "the API process stopped"
            log.warning("export job %s failed: %s", job_id, reason)
            # The export process marks its own failures; this covers a process that died or never ran.
            async with tenant_connection(pool, spec.org_id) as conn:
                await repo.fail_job(conn, spec.org_id, job_id, reason)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            path.unlink(missing_ok=True)  # noqa: ASYNC240 - one local unlink when the job ends

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


MAX_DAYS = 400
DEFAULT_DAYS = 30


def report_spec(
    settings: Settings, org_id: UUID, first: date | None, last: date | None, device: UUID | None
) -> tuple[ExportSpec, str]:
    """The export of these days (``YYYY-MM-DD``, both included, in the report's timezone) and its file name.

    400 for a reversed or too long range.
    """
    tz = ZoneInfo(settings.counter.report_timezone)
    last = last or datetime.now(tz).date()
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ApiError(400, "invalid_request", "from: must not be after to")
    if (last - first).days >= MAX_DAYS:
        raise ApiError(400, "invalid_request", f"the range is longer than {MAX_DAYS} days")
    spec = ExportSpec(
        org_id=org_id,
        start=datetime.combine(first, time(), tz).astimezone(UTC),
        end=datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC),
        device_id=device,
        timezone=settings.counter.report_timezone,
        stt_per_minute=dict(settings.counter.price_stt_per_minute),
        llm_per_million=dict(settings.counter.price_llm_per_million_tokens),
        first=first,
        last=last,
    )
    return spec, f"escuta-balcao-{first.isoformat()}_{last.isoformat()}.xlsx"


async def require_device(conn: Conn, org_id: UUID, device: UUID | None) -> None:
    """404 unless the report's device (when one is asked for) is this organization's."""
    if device is not None and not await devices_repo.device_exists(conn, org_id, device):
        raise ApiError(404, "not_found", "no such device")


def database_url(settings: Settings) -> str:
    """The DSN an export process connects with (the API's own)."""
    if not settings.db.url:
        raise ApiError(503, "database_unavailable", "exports need ESCUTA_DATABASE_URL")
    return settings.db.url
