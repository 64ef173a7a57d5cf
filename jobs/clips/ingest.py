"""The `clips.ingest` job: pull new clips of every monitored streamer from Twitch, store them, update bursts.

Per streamer: read its settings in a transaction scoped to its organization, fetch the window
``[last_ingested_at - overlap, now]`` from Twitch with no transaction open, then store the clips,
refresh the bursts and advance ``last_ingested_at`` to the window's end in one transaction. A failure
anywhere leaves ``last_ingested_at`` where it was (the next run re-reads the window) and never deletes
a stored clip. Streamers whose trial has expired are skipped. Events are logged as ``ingestion_*``
(seed 004).

Catching up. A streamer that was not ingested for a while (monitoring stopped and resumed, an expired
trial renewed, credentials broken for days) resumes where it stopped, oldest first, one
``CATCH_UP_STEP`` (a week) per run, so one run's work per streamer stays bounded and each week is
committed as it is done; a three-week pause is caught up in three runs. Only clips older than
``ESCUTA_CLIPS_INGESTION_MAX_CATCHUP_DAYS`` are given up, and that is logged
(``ingestion_catchup_clamped``), never silent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from core.clips.source import ClipRecord, ClipSource, ClipSourceError
from core.log_events import log_event
from core.settings import Settings
from db import clips as clips_repo
from db.bursts import refresh_bursts
from db.clips import streamer_app_credentials, upsert_clips
from db.credentials import MissingCredentialError, resolve_credential
from db.tenancy import tenant_connection
from jobs.clips.twitch import TwitchClipSource

log = logging.getLogger("escuta.clips.ingest")

# Helix reads one week from `started_at` only when `ended_at` is omitted; we always send `ended_at`, so
# this is our own bound: one run ingests at most this much of a streamer's backlog (see "Catching up").
CATCH_UP_STEP = timedelta(days=7)
UPSERT_CHUNK = 1000
# Helix stops paginating after about 1,000 clips per query (most viewed first), silently: 990 is as
# likely an answer as 1,000. A window that returns this many, well below the cap, or whose page sequence
# ends on a full page (Twitch cut it short), is split in two and each half fetched again.
SPLIT_AT = 500
# Helix ignores the seconds of `started_at`/`ended_at`: halves are cut on whole minutes, and a window
# under two minutes is not split further (only more than ~1,000 clips in one minute could be missed).
MIN_SPLIT = timedelta(minutes=2)


def _minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


@dataclass
class _Totals:
    streamers: int = 0
    skipped_trial: int = 0
    failed: int = 0
    clips_new: int = 0
    clips_updated: int = 0
    bursts_created: int = 0
    bursts_grown: int = 0


def split_app_credential(value: str) -> tuple[str, str]:
    """An organization's `twitch` credential: ``{"client_id": .., "secret": ..}`` or ``CLIENT_ID:SECRET``."""
    client_id = secret = ""
    if value.lstrip().startswith("{"):
        try:
            doc = json.loads(value)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            client_id = str(doc.get("client_id") or "")
            secret = str(doc.get("client_secret") or doc.get("secret") or "")
    else:
        client_id, _, secret = value.partition(":")
    if not client_id or not secret:
        raise ClipSourceError(
            'the organization\'s twitch credential must be {"client_id": ..., "secret": ...} or CLIENT_ID:SECRET'
        )
    return client_id, secret


class ClipIngestion:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        # Kept across runs so app tokens are reused until they expire (one per Twitch application).
        self._sources: dict[tuple[str, str], TwitchClipSource] = {}
        self.split_at = SPLIT_AT

    async def aclose(self) -> None:
        for source in self._sources.values():
            await source.aclose()
        self._sources.clear()

    def _source(self, client_id: str, secret: str) -> TwitchClipSource:
        key = (client_id, hashlib.sha256(secret.encode()).hexdigest())
        if key not in self._sources:
            self._sources[key] = TwitchClipSource.from_settings(
                self.settings, client_id=client_id, client_secret=secret
            )
        return self._sources[key]

    async def run(self) -> dict[str, Any]:
        """One ingestion pass over every organization's streamers; the result goes to /health/worker."""
        totals = _Totals()
        async with tenant_connection(self.pool, None) as conn:
            targets = await clips_repo.ingestion_targets(conn)
        log_event(log, logging.INFO, "ingestion_started", streamers=len(targets))
        gate = asyncio.Semaphore(self.settings.clips.ingestion_concurrency)

        async def one(org_id: UUID, streamer_id: UUID) -> None:
            async with gate:
                await self._ingest_streamer(org_id, streamer_id, totals)

        due = []
        for t in targets:
            if t["trial_expired"]:
                totals.skipped_trial += 1
                log_event(
                    log,
                    logging.INFO,
                    "ingestion_streamer_skipped",
                    streamer_id=str(t["streamer_id"]),
                    reason="trial_expired",
                )
                continue
            due.append(one(t["org_id"], t["streamer_id"]))
        await asyncio.gather(*due)
        result = vars(totals).copy()
        log_event(log, logging.INFO, "ingestion_finished", **result)
        return result

    async def _credentials(
        self, conn: asyncpg.Connection, org_id: UUID, streamer_id: UUID, mode: str
    ) -> tuple[str, str]:
        if mode == "client":
            own = await streamer_app_credentials(conn, org_id, streamer_id, self.settings)
            if own is None:
                raise ClipSourceError("api_mode is client but the streamer has no Twitch credentials")
            return own
        try:
            return split_app_credential(await resolve_credential(conn, org_id, "twitch", settings=self.settings))
        except MissingCredentialError:
            pass
        platform_secret = self.settings.clips.twitch.client_secret.get_secret_value()
        if self.settings.clips.twitch.client_id and platform_secret:
            return self.settings.clips.twitch.client_id, platform_secret
        raise ClipSourceError("no Twitch credentials: none for the organization nor ESCUTA_TWITCH_CLIENT_ID")

    async def _ingest_streamer(self, org_id: UUID, streamer_id: UUID, totals: _Totals) -> None:
        sid = str(streamer_id)
        try:
            async with tenant_connection(self.pool, org_id) as conn:
                row = await clips_repo.ingestion_state(conn, org_id, streamer_id)
                if row is None:
                    return  # deleted since the target list was read
                client_id, secret = await self._credentials(conn, org_id, streamer_id, row["api_mode"])
            started, until = self._window(sid, row["last_ingested_at"], row["now"])
            source = self._source(client_id, secret)
            fetched = await self._fetch(source, row["twitch_user_id"], started, until)

            async with tenant_connection(self.pool, org_id) as conn:
                earliest: datetime | None = None
                for i in range(0, len(fetched), UPSERT_CHUNK):
                    res = await upsert_clips(conn, org_id, streamer_id, fetched[i : i + UPSERT_CHUNK], "twitch")
                    totals.clips_new += res.inserted
                    totals.clips_updated += res.updated
                    if res.earliest_new and (earliest is None or res.earliest_new < earliest):
                        earliest = res.earliest_new
                if earliest is not None:
                    changes = await refresh_bursts(conn, org_id, streamer_id, earliest)
                    totals.bursts_created += len(changes.created)
                    totals.bursts_grown += len(changes.grown)
                    for b in changes.created:
                        log_event(log, logging.INFO, "ingestion_burst_detected", streamer_id=sid, burst_id=str(b))
                    for b in changes.grown:
                        log_event(log, logging.INFO, "ingestion_burst_grown", streamer_id=sid, burst_id=str(b))
                await clips_repo.mark_ingested(conn, org_id, streamer_id, until)
            totals.streamers += 1
        except Exception as exc:
            # One streamer's failure (Twitch, credentials, a bad row) must not stop the others' ingestion.
            totals.failed += 1
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log_event(log, logging.WARNING, "ingestion_streamer_failed", streamer_id=sid, error=reason)
            await self._record_failure(org_id, streamer_id, reason)

    async def _fetch(self, source: ClipSource, broadcaster: str, start: datetime, end: datetime) -> list[ClipRecord]:
        got = await source.window(broadcaster, start, end)
        if got.complete and len(got.clips) < self.split_at:
            return got.clips
        mid = _minute(start + (end - start) / 2)
        if end - start < MIN_SPLIT or not start < mid < end:
            # As fine as Helix can tell apart: what it did not return here cannot be asked for.
            log_event(
                log,
                logging.WARNING,
                "ingestion_window_capped",
                broadcaster_id=broadcaster,
                started_at=start.isoformat(),
                ended_at=end.isoformat(),
                clips=len(got.clips),
            )
            return got.clips
        by_id = {c.clip_id: c for c in await self._fetch(source, broadcaster, start, mid)}
        by_id.update((c.clip_id, c) for c in await self._fetch(source, broadcaster, mid, end))
        by_id.update((c.clip_id, c) for c in got.clips)
        return list(by_id.values())

    def _window(self, streamer_id: str, last: datetime | None, now: datetime) -> tuple[datetime, datetime]:
        """The window this run ingests: from a little before the last one (or the look-back of a new
        streamer) to now, or to one `CATCH_UP_STEP` later for a streamer catching up."""
        s = self.settings.clips
        if last is None:
            start = now - timedelta(seconds=s.ingestion_lookback_seconds)
        else:
            start = last - timedelta(seconds=s.ingestion_overlap_seconds)
        oldest = now - timedelta(days=s.ingestion_max_catchup_days)
        if start < oldest:
            if last is not None:
                log_event(
                    log,
                    logging.WARNING,
                    "ingestion_catchup_clamped",
                    streamer_id=streamer_id,
                    skipped_from=start.isoformat(),
                    skipped_until=oldest.isoformat(),
                )
            start = oldest
        end = min(now, start + CATCH_UP_STEP)
        if end < now:
            log_event(
                log,
                logging.INFO,
                "ingestion_catching_up",
                streamer_id=streamer_id,
                until=end.isoformat(),
                behind_hours=round((now - end).total_seconds() / 3600, 1),
            )
        return start, end

    async def _record_failure(self, org_id: UUID, streamer_id: UUID, reason: str) -> None:
        try:
            async with tenant_connection(self.pool, org_id) as conn:
                await clips_repo.mark_ingestion_failed(conn, org_id, streamer_id, reason)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            log_event(log, logging.WARNING, "ingestion_failure_not_recorded", streamer_id=str(streamer_id))
