"""Coach outputs to hosts and PostgreSQL, off the frame loop.

`QueuedOutputs` is the `CoachOutputs` a room uses: the frame loop only enqueues; one task sends each
delivery to its hosts (`send`, e.g. a LiveKit text stream on `FEEDBACK_TOPIC` addressed to their
identities) and then stores it with its latency, measured from the end of the audio window that
triggered it to the moment the send completed. Events without hosts are stored with no recipients.
Without a store (a replay without `--store`) events are only sent and handed to `on_sent`.

The prosody measure in use (`ProsodyStatus`: Hume, or local after Hume refused or failed) is stored when
the meeting starts and whenever it changes (`prosody_status` rows), and each feedback event is stored
with the measure in effect when the coach produced it (`feedback_events.prosody_provider`/`_fallback`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from agents.audio.events import LevelSnapshot
from core.settings import Settings
from core.settings.coach import CoachThresholds
from db import coach as repo
from db.tenancy import tenant_connection

from .feedback import Delivery
from .prosody.base import ProsodyResult, ProsodyStatus

log = logging.getLogger("escuta.coach.store")

SendFn = Callable[[tuple[str, ...], str], Awaitable[None]]  # (host identities, JSON payload)
SentFn = Callable[[dict[str, Any], tuple[str, ...]], None]  # (payload as sent, recipients)


async def load_org_config(pool: asyncpg.Pool, settings: Settings, org_id: UUID | None) -> tuple[CoachThresholds, bool]:
    """An organization's thresholds (settings + its overrides) and whether its audio is recorded."""
    if org_id is None:
        return settings.coach.thresholds, settings.coach.recordings.enabled
    async with tenant_connection(pool, org_id) as conn:
        overrides, recordings = await repo.coach_settings(conn, org_id)
    enabled = settings.coach.recordings.enabled if recordings is None else recordings
    return settings.coach.thresholds_for(overrides), enabled


class CoachStore:
    def __init__(self, pool: asyncpg.Pool, *, org_id: UUID | None, meeting_id: str, clock_origin: float) -> None:
        self.pool = pool
        self.org_id = org_id
        self.meeting_id = meeting_id
        self.clock_origin = clock_origin  # epoch seconds of session-clock zero

    async def save_delivery(
        self, d: Delivery, *, sent_at: float, send_seconds: float = 0.0, prosody: ProsodyStatus | None = None
    ) -> float:
        """Store the event as sent at `sent_at` (epoch s, the payload's `ts`); returns its latency in ms,
        from the window's end to the send's completion (`sent_at` + `send_seconds`). `prosody`: the
        measure in effect when the coach produced it (None: prosody off)."""
        latency_ms = latency(self.clock_origin, d, sent_at, send_seconds)
        payload = d.feedback.payload(self.clock_origin, sent_at=sent_at)
        async with tenant_connection(self.pool, self.org_id) as conn:
            await repo.insert_feedback(
                conn,
                payload,
                org_id=self.org_id,
                recipients=d.recipients,
                latency_ms=latency_ms,
                prosody_provider=prosody.provider if prosody is not None else None,
                prosody_fallback=prosody.fallback if prosody is not None else None,
            )
        return latency_ms

    async def save_prosody_status(self, status: ProsodyStatus, *, at: float) -> None:
        async with tenant_connection(self.pool, self.org_id) as conn:
            await repo.insert_prosody_status(
                conn,
                repo.ProsodyStatusRow(
                    org_id=self.org_id,
                    meeting_id=self.meeting_id,
                    requested=status.requested,
                    provider=status.provider,
                    fallback=status.fallback,
                    detail=status.detail,
                    at=datetime.fromtimestamp(status.at if status.at is not None else at, tz=UTC),
                ),
            )

    async def save_snapshot(self, participant_id: str, s: LevelSnapshot) -> None:
        row = repo.SnapshotRow(
            meeting_id=self.meeting_id,
            participant_id=participant_id,
            t_s=s.t,
            at=datetime.fromtimestamp(self.clock_origin + s.t, tz=UTC),
            rms_dbfs=s.rms_dbfs,
            ema_rms_dbfs=s.ema_rms_dbfs,
            mean_rms_dbfs=s.mean_rms_dbfs,
            peak_dbfs=s.peak_dbfs,
            clipping_ratio=s.clipping_ratio,
            speech_coverage=s.speech_coverage,
            speaking=s.speaking,
            org_id=self.org_id,
        )
        async with tenant_connection(self.pool, self.org_id) as conn:
            await repo.insert_snapshot(conn, row)

    async def save_prosody(self, r: ProsodyResult) -> None:
        async with tenant_connection(self.pool, self.org_id) as conn:
            await repo.insert_prosody(
                conn,
                org_id=self.org_id,
                meeting_id=self.meeting_id,
                participant_id=r.participant_id,
                provider=r.provider,
                utterance=(r.utterance_start, r.utterance_end),
                window=(r.window_start, r.window_end),
                features=r.features,
            )


def latency(clock_origin: float, d: Delivery, sent_at: float, send_seconds: float = 0.0) -> float:
    """Milliseconds from the end of the triggering window to the send's completion."""
    return max(0.0, (sent_at + send_seconds - (clock_origin + d.feedback.window_end)) * 1000.0)


class QueuedOutputs:
    """`CoachOutputs` for a live room: enqueue now, send and store in order on one background task."""

    def __init__(
        self,
        store: CoachStore | None,
        send: SendFn | None = None,
        *,
        clock: Callable[[], float] = time.time,
        clock_origin: float | None = None,
        on_sent: SentFn | None = None,
    ) -> None:
        if store is None and clock_origin is None:
            raise ValueError("QueuedOutputs without a store needs clock_origin")
        self.store = store
        self.send = send
        self.clock = clock
        self.clock_origin = store.clock_origin if store is not None else float(clock_origin or 0.0)
        self.on_sent = on_sent
        self.latencies_ms: list[float] = []
        self.send_errors = 0
        self.prosody_now: ProsodyStatus | None = None  # the measure in effect; None: prosody off
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._drain(), name="coach-outputs")

    def delivery(self, delivery: Delivery) -> None:
        prosody = self.prosody_now  # as it is now, when the coach produced it, not when it is stored
        self._queue.put_nowait(lambda: self._deliver(delivery, prosody))

    def prosody_status(self, status: ProsodyStatus) -> None:
        self.prosody_now = status
        if self.store is not None:
            store, at = self.store, time.time()  # not `clock`: a test's clock times the sends only
            self._queue.put_nowait(lambda: store.save_prosody_status(status, at=at))

    def prosody(self, result: ProsodyResult) -> None:
        if self.store is not None:
            store = self.store
            self._queue.put_nowait(lambda: store.save_prosody(result))

    def snapshot(self, participant_id: str, snapshot: LevelSnapshot) -> None:
        if self.store is not None:
            store = self.store
            self._queue.put_nowait(lambda: store.save_snapshot(participant_id, snapshot))

    async def _deliver(self, d: Delivery, prosody: ProsodyStatus | None = None) -> None:
        sent_at = self.clock()
        payload = d.feedback.payload(self.clock_origin, sent_at=sent_at)
        send_s = 0.0
        if d.recipients and self.send is not None:
            t0 = time.perf_counter()
            try:
                await self.send(d.recipients, json.dumps(payload, ensure_ascii=False))
            except Exception as exc:  # a host that left must not stop the recording of the event
                self.send_errors += 1
                log.warning("coach_send_failed", extra={"error": type(exc).__name__, "type": d.feedback.type})
            send_s = time.perf_counter() - t0
        if self.on_sent is not None:
            self.on_sent(payload, d.recipients)
        if self.store is not None:
            saved = await self.store.save_delivery(d, sent_at=sent_at, send_seconds=send_s, prosody=prosody)
            self.latencies_ms.append(saved)
        else:
            self.latencies_ms.append(latency(self.clock_origin, d, sent_at, send_s))

    async def _drain(self) -> None:
        while (job := await self._queue.get()) is not None:
            try:
                await job()
            except (asyncpg.PostgresError, OSError) as exc:
                log.warning("coach_store_failed", extra={"error": type(exc).__name__})
            except Exception:
                # Anything else is a bug, but it must not end the drain: later events would be lost.
                log.exception("coach_output_failed")

    async def aclose(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
