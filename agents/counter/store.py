"""Persistence for one counter session: the seam the live profile (and replays) record through.

    store = await CounterStore.open(pool, org_id=..., meeting_id=room_sid, device_id=..., atendente=...)
    for outcome in await assistant.on_segment(segment):
        await store.record(outcome)          # then push outcome.event to the device
    await store.feedback(payload, source="rpc")   # the clerk's answer, RPC or text message
    await store.close()

Every write runs in a transaction scoped to the organization (row-level security).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from agents.counter.assistant import RecommendationOutcome
from agents.counter.events import Feedback, parse_feedback
from core.counter.catalog import CatalogIndex
from db import counter as repo
from db.tenancy import tenant_connection


@dataclass
class CounterStore:
    pool: asyncpg.Pool
    org_id: uuid.UUID
    interaction_id: uuid.UUID

    @classmethod
    async def open(
        cls,
        pool: asyncpg.Pool,
        *,
        org_id: uuid.UUID,
        meeting_id: str,
        device_id: uuid.UUID | None,
        room_name: str | None = None,
        atendente: str = "",
    ) -> CounterStore:
        async with tenant_connection(pool, org_id) as conn:
            interaction_id = await repo.start_interaction(
                conn, org_id, meeting_id=meeting_id, device_id=device_id, room_name=room_name, atendente=atendente
            )
        return cls(pool, org_id, interaction_id)

    async def record(self, outcome: RecommendationOutcome) -> None:
        async with tenant_connection(self.pool, self.org_id) as conn:
            await repo.store_recommendation(
                conn,
                self.org_id,
                self.interaction_id,
                event_id=uuid.UUID(outcome.event["id"]),
                rec=outcome.recommendation,
                atendente=outcome.event["atendente"],
                latency_ms=outcome.latency_ms,
            )

    async def add_stt_seconds(self, seconds: float, provider: str | None) -> None:
        async with tenant_connection(self.pool, self.org_id) as conn:
            await repo.add_stt_usage(conn, self.org_id, self.interaction_id, seconds=seconds, provider=provider)

    async def feedback(
        self, payload: str | bytes | dict[str, Any] | Feedback, *, source: Literal["rpc", "text", "api"]
    ) -> bool:
        """Store the clerk's answer. False when the id is not a recommendation of this organization.

        Raises ``ValueError`` for a payload that is not valid feedback (the RPC handler answers with
        an error then).
        """
        fb = payload if isinstance(payload, Feedback) else parse_feedback(payload)
        async with tenant_connection(self.pool, self.org_id) as conn:
            return await repo.store_feedback(conn, self.org_id, fb.id, accepted=fb.accepted, source=source)

    async def close(self) -> None:
        async with tenant_connection(self.pool, self.org_id) as conn:
            await repo.end_interaction(conn, self.org_id, self.interaction_id)


async def load_index(pool: asyncpg.Pool, org_id: uuid.UUID) -> CatalogIndex:
    """The organization's catalog, indexed for the recommenders (built once per session)."""
    async with tenant_connection(pool, org_id) as conn:
        return CatalogIndex(await repo.load_catalog(conn, org_id))
