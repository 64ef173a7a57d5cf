"""`escuta clips import`: seed 004's streamers and clips CSV files into one organization.

Every row of both files is validated before anything is written; any invalid row (reported with its
file and line) stops the import with nothing changed, unless ``skip_invalid`` is set, in which case
only the valid rows are imported. Each file is then written in one transaction. Re-importing the same
files changes nothing (streamers and clips are upserts; bursts are reconciled, not re-inserted).
A dry run does the whole import inside a transaction and rolls it back, so its counts are exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import UUID

import asyncpg

from core.settings import Settings
from db.accounts import org_exists
from db.bursts import refresh_bursts
from db.clips import ClientModeWithoutCredentials, active_streamer_ids, upsert_clips, upsert_streamer
from db.tenancy import tenant_connection
from jobs.clips.csv_rows import ClipRow, RowError, StreamerRow, parse_clips, parse_streamers

CHUNK = 1000
# (stage, done, total): the CLI draws a progress bar from it.
Progress = Callable[[str, int, int], None]


class ImportRejected(Exception):
    """The files have invalid rows and ``skip_invalid`` was not given: nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} invalid row(s); nothing was imported")
        self.errors = errors


class _DryRunRollback(Exception):
    pass


@dataclass
class ImportReport:
    dry_run: bool = False
    streamers_created: int = 0
    streamers_updated: int = 0
    clips_new: int = 0
    clips_updated: int = 0
    bursts_created: int = 0
    bursts_grown: int = 0
    skipped: list[RowError] = field(default_factory=list)


def _noop(stage: str, done: int, total: int) -> None:
    return None


async def import_csv(
    pool: asyncpg.Pool,
    settings: Settings,
    org_id: UUID,
    *,
    streamers_csv: Path | None,
    clips_csv: Path | None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress = _noop,
) -> ImportReport:
    errors: list[RowError] = []
    streamers = parse_streamers(streamers_csv, errors) if streamers_csv else []
    clips = parse_clips(clips_csv, errors) if clips_csv else []

    async with tenant_connection(pool, org_id) as conn:
        if not await org_exists(conn, org_id):
            raise LookupError(f"no organization {org_id}")
        known = set(await active_streamer_ids(conn, org_id)) | {s.streamer.twitch_user_id for s in streamers}
    name = clips_csv.name if clips_csv else ""
    for c in clips:
        if c.twitch_user_id not in known:
            errors.append(RowError(name, c.line, "streamer_twitch_user_id", f"unknown streamer {c.twitch_user_id}"))
    if errors:
        errors.sort(key=lambda e: (e.file, e.line))
        if not skip_invalid:
            raise ImportRejected(errors)
        bad_clip_lines = {e.line for e in errors if e.file == name}
        clips = [c for c in clips if c.line not in bad_clip_lines]

    report = ImportReport(dry_run=dry_run, skipped=errors)
    streamers_name = streamers_csv.name if streamers_csv else ""
    if dry_run:
        try:
            async with tenant_connection(pool, org_id) as conn:
                await _write_streamers(conn, settings, org_id, streamers, streamers_name, report, progress)
                await _write_clips(conn, org_id, clips, report, progress)
                raise _DryRunRollback
        except _DryRunRollback:
            pass
        return report
    async with tenant_connection(pool, org_id) as conn:
        await _write_streamers(conn, settings, org_id, streamers, streamers_name, report, progress)
    async with tenant_connection(pool, org_id) as conn:
        await _write_clips(conn, org_id, clips, report, progress)
    return report


async def _write_streamers(
    conn: asyncpg.Connection,
    settings: Settings,
    org_id: UUID,
    rows: list[StreamerRow],
    file_name: str,
    report: ImportReport,
    progress: Progress,
) -> None:
    for i, row in enumerate(rows, 1):
        try:
            _, created = await upsert_streamer(conn, org_id, row.streamer, settings)
        except ClientModeWithoutCredentials:
            # api_mode=client with empty credential columns, and none stored to keep.
            message = "client mode needs client_twitch_client_id and client_twitch_client_secret (none are stored)"
            raise ImportRejected([RowError(file_name, row.line, "api_mode", message)]) from None
        if created:
            report.streamers_created += 1
        else:
            report.streamers_updated += 1
        if i % 100 == 0 or i == len(rows):
            progress("streamers", i, len(rows))


async def _write_clips(
    conn: asyncpg.Connection, org_id: UUID, rows: list[ClipRow], report: ImportReport, progress: Progress
) -> None:
    ids = await active_streamer_ids(conn, org_id)
    by_streamer: dict[str, list[ClipRow]] = defaultdict(list)
    for row in rows:
        by_streamer[row.twitch_user_id].append(row)
    done = 0
    for twitch_id, group in by_streamer.items():
        sid = ids[twitch_id]
        earliest: datetime | None = None
        for i in range(0, len(group), CHUNK):
            res = await upsert_clips(conn, org_id, sid, [r.clip for r in group[i : i + CHUNK]], "csv")
            report.clips_new += res.inserted
            report.clips_updated += res.updated
            if res.earliest_new and (earliest is None or res.earliest_new < earliest):
                earliest = res.earliest_new
            done += len(group[i : i + CHUNK])
            progress("clips", done, len(rows))
        if earliest is not None:
            changes = await refresh_bursts(conn, org_id, sid, earliest)
            report.bursts_created += len(changes.created)
            report.bursts_grown += len(changes.grown)
