"""Recommendations and feedback stored in PostgreSQL, per organization."""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx
import pytest

from agents.counter.assistant import CounterAssistant
from agents.counter.recommender import LocalRecommender
from agents.counter.store import CounterStore, load_index
from tests.accounts.helpers import device_for_org, register
from tests.counter.helpers import say


async def _org_with_catalog(client: httpx.AsyncClient, name: str) -> tuple[uuid.UUID, uuid.UUID, dict[str, str]]:
    org = await register(client, name)
    r = await client.post("/catalog/import/sample", headers=org.headers)
    assert r.status_code == 200
    device = await device_for_org(client, org)
    return uuid.UUID(org.org_id), uuid.UUID(device["balcao_id"]), org.headers


async def test_session_is_recorded_with_feedback(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    org_id, device_id, _ = await _org_with_catalog(client, "Farmácia A")
    index = await load_index(db_pool, org_id)
    assistant = CounterAssistant(index, LocalRecommender(index), atendente="Carla")
    store = await CounterStore.open(
        db_pool, org_id=org_id, meeting_id="RM_counter_1", device_id=device_id, atendente="Carla"
    )
    outcomes = await say(assistant, ("cliente", "Tô com tosse seca"), ("cliente", "e uma dor de garganta"))
    assert len(outcomes) == 2
    for o in outcomes:
        await store.record(o)
    await store.add_stt_seconds(4.5, "openai")
    first, second = (o.event["id"] for o in outcomes)
    assert await store.feedback(json.dumps({"id": first, "feedback": "aceito"}), source="rpc")
    assert await store.feedback({"id": second, "feedback": "rejeitado"}, source="text")
    assert await store.feedback({"id": second, "aceito": True}, source="rpc"), "a later answer replaces the earlier"
    assert not await store.feedback({"id": str(uuid.uuid4()), "feedback": "aceito"}, source="rpc")
    with pytest.raises(ValueError):
        await store.feedback('{"id": "x"}', source="rpc")
    await store.close()

    rows = await db_pool.fetch(
        """
        SELECT r.id, r.product_id, r.product_name, r.transcript_excerpt, r.provider, r.latency_ms, r.atendente,
               f.accepted, f.source, i.stt_seconds, i.ended_at, i.device_id
        FROM counter_recommendations r JOIN counter_interactions i ON i.id = r.interaction_id
        LEFT JOIN counter_feedback f ON f.recommendation_id = r.id ORDER BY r.created_at
        """
    )
    assert [str(r["id"]) for r in rows] == [first, second]
    assert all(r["product_id"] is not None and r["provider"] == "local" and r["atendente"] == "Carla" for r in rows)
    assert "tosse seca" in rows[0]["transcript_excerpt"]
    assert (rows[0]["accepted"], rows[0]["source"]) == (True, "rpc")
    assert (rows[1]["accepted"], rows[1]["source"]) == (True, "rpc")
    assert rows[0]["stt_seconds"] == 4.5 and rows[0]["ended_at"] is not None and rows[0]["device_id"] == device_id


async def test_feedback_cannot_reach_another_organization(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    org_a, device_a, _ = await _org_with_catalog(client, "Farmácia A")
    org_b, device_b, _ = await _org_with_catalog(client, "Farmácia B")
    index_a = await load_index(db_pool, org_a)
    assistant = CounterAssistant(index_a, LocalRecommender(index_a))
    store_a = await CounterStore.open(db_pool, org_id=org_a, meeting_id="RM_a", device_id=device_a)
    store_b = await CounterStore.open(db_pool, org_id=org_b, meeting_id="RM_b", device_id=device_b)
    (outcome,) = await say(assistant, ("cliente", "Tô com azia"))
    await store_a.record(outcome)
    assert not await store_b.feedback({"id": outcome.event["id"], "feedback": "rejeitado"}, source="rpc")
    assert await db_pool.fetchval("SELECT count(*) FROM counter_feedback") == 0
    # Row-level security: B's scoped view of recommendations is empty even without a WHERE clause.
    async with db_pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "SELECT set_config('role', 'escuta_app', true), set_config('app.org_id', $1, true)", str(org_b)
        )
        assert await conn.fetchval("SELECT count(*) FROM counter_recommendations") == 0
