"""Webhook events stored in batches, each request answered only once its event is committed (issue 20.3).

A request hands its row to :meth:`WebhookBatcher.store` and waits. The first one starts a write at once
(no added delay when traffic is light); the events arriving while writes are in flight wait for the next
one, which takes all of them (up to ``max_batch``) in one round trip and one transaction
(``db.sessions.ingest_rows``). So a busy minute costs a few hundred commits a second instead of one per
event, and acknowledged still means stored: ``store`` returns after the batch's transaction committed.

A batch that fails (a deadlock with another API process, a row PostgreSQL refuses) is retried event by
event, so one bad event fails only its own request. Rows are sorted by meeting within a batch so that
two batches touching the same sessions take their row locks in the same order.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

import asyncpg

from db.sessions import EventRow, ingest_row, ingest_rows

log = logging.getLogger("escuta.api.webhook")

MAX_BATCH = 200  # events per transaction: bounds one statement's time and its locks
MAX_IN_FLIGHT = 3  # concurrent writes per process (pool connections the webhook may hold)

_Waiter = tuple[EventRow, "asyncio.Future[tuple[UUID | None, bool]]"]


class WebhookBatcher:
    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = MAX_BATCH, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._pending: list[_Waiter] = []
        self._writers: set[asyncio.Task[None]] = set()
        self.batches = 0  # transactions written (for tests and the curious)

    async def store(self, row: EventRow) -> tuple[UUID | None, bool]:
        """(the room's organization, False when the event id was already stored), once durably stored."""
        future: asyncio.Future[tuple[UUID | None, bool]] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if len(self._writers) < self._max_in_flight:
            # Started as a task: rows appended in this same loop turn still join its first batch.
            task = asyncio.create_task(self._drain())
            self._writers.add(task)
            task.add_done_callback(self._writers.discard)
        # A cancelled request (client gone) leaves the row to be written anyway: LiveKit's retry is then a no-op.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            await self._write(batch)

    async def _write(self, batch: list[_Waiter]) -> None:
        batch.sort(key=lambda w: (w[0].meeting_id or "", w[0].id))
        self.batches += 1
        try:
            async with self._pool.acquire() as conn:
                if len(batch) == 1:
                    results = [await ingest_row(conn, batch[0][0])]
                else:
                    results = await ingest_rows(conn, [row for row, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc=exc)
                return
            log.warning(
                "webhook batch of %d failed (%s); storing its events one by one", len(batch), type(exc).__name__
            )
            for waiter in batch:  # one after the other: a failing batch does not take every pool connection
                await self._write([waiter])
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)

    async def aclose(self) -> None:
        """Wait for the writes in flight (app shutdown)."""
        while self._writers:
            await asyncio.gather(*list(self._writers), return_exceptions=True)


def _settle(
    future: asyncio.Future[tuple[UUID | None, bool]],
    result: tuple[UUID | None, bool] | None = None,
    *,
    exc: BaseException | None = None,
) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        assert result is not None
        future.set_result(result)
