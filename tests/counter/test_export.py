"""`GET /api/export/xlsx`: the workbook opens, its totals match the database, other tenants never appear."""

from __future__ import annotations

import io
import uuid
from typing import Any

import asyncpg
import httpx
from openpyxl import load_workbook

from agents.counter.assistant import RecommendationOutcome
from agents.counter.conversation import Segment
from agents.counter.events import build_recommendation_event
from agents.counter.store import CounterStore
from core.counter.catalog import Product
from core.counter.recommendation import Recommendation
from core.settings import Settings
from tests.accounts.helpers import device_for_org, invite_and_join, register

STT_SECONDS = 90.0


def outcome(product: str, provider: str, tokens: tuple[int, int] | None) -> RecommendationOutcome:
    rec = Recommendation(
        product=Product(id="x", name=product, indications=("febre",)),
        explanation="Para febre.",
        transcript_excerpt='=HYPERLINK("http://evil") tô com febre',
        matched=("febre",),
        provider=provider,
        model=None if provider == "local" else "m",
        prompt_tokens=tokens[0] if tokens else None,
        completion_tokens=tokens[1] if tokens else None,
    )
    event = build_recommendation_event(produto=product, explicacao="Para febre.", transcricao_base="", atendente="Ana")
    return RecommendationOutcome(event, rec, Segment("c", "cliente", "tô com febre", 0, 1), 1.5)


async def _populate(client: httpx.AsyncClient, db_pool: asyncpg.Pool, name: str, product: str) -> dict[str, Any]:
    org = await register(client, name)
    device = await device_for_org(client, org)
    org_id, device_id = uuid.UUID(org.org_id), uuid.UUID(device["balcao_id"])
    ids = []
    for n, (provider, tokens) in enumerate([("openai", (1000, 200)), ("local", None), ("xai", (500, 100))]):
        store = await CounterStore.open(db_pool, org_id=org_id, meeting_id=f"RM_{name}_{n}", device_id=device_id)
        await store.add_stt_seconds(STT_SECONDS, "openai")
        o = outcome(product, provider, tokens)
        await store.record(o)
        ids.append(o.event["id"])
        await store.close()
    await store.feedback({"id": ids[0], "feedback": "aceito"}, source="rpc")
    await store.feedback({"id": ids[1], "feedback": "rejeitado"}, source="text")
    return {"org": org, "device_id": device_id, "ids": ids}


def _sheet(wb: Any, name: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in wb[name].iter_rows(values_only=True)]


async def test_workbook_totals_match_and_tenants_are_isolated(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    a = await _populate(client, db_pool, "Farmacia A", "Produto da A")
    await _populate(client, db_pool, "Farmacia B", "Segredo da B")

    r = await client.get("/api/export/xlsx", headers=a["org"].headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    assert wb.sheetnames == ["Resumo", "Interações", "Custos"]

    interactions = _sheet(wb, "Interações")[1:]
    assert len(interactions) == 3
    assert {row[3] for row in interactions} == {"Produto da A"}
    assert sorted(row[6] for row in interactions) == ["aceito", "rejeitado", "sem resposta"]
    assert all(str(row[5]).startswith("'=") for row in interactions), "no formula injection"

    # Totals recomputed from the database with the configured prices.
    stt_price = settings.counter.price_stt_per_minute["openai"]
    llm = settings.counter.price_llm_per_million_tokens
    rows = await db_pool.fetch(
        "SELECT provider, prompt_tokens, completion_tokens FROM counter_recommendations WHERE org_id = $1",
        uuid.UUID(a["org"].org_id),
    )
    expected = 3 * STT_SECONDS / 60 * stt_price + sum(
        ((r["prompt_tokens"] or 0) * llm[r["provider"]][0] + (r["completion_tokens"] or 0) * llm[r["provider"]][1])
        / 1_000_000
        for r in rows
    )
    costs = _sheet(wb, "Custos")
    assert costs[-1][0] == "TOTAL" and abs(costs[-1][10] - expected) < 1e-5
    assert abs(sum(row[10] for row in costs[1:-1]) - expected) < 1e-5
    assert sum(row[7] for row in costs[1:-1]) == 1500 and sum(row[12] for row in costs[1:-1]) == 1

    summary = _sheet(wb, "Resumo")
    assert len(summary) == 3  # header, one device-day, total
    day = summary[1]
    assert day[2:6] == (3, 3, 1, 1) and day[6] == 0.5 and abs(day[9] - expected) < 1e-5
    text = " ".join(str(c) for name in wb.sheetnames for row in _sheet(wb, name) for c in row)
    assert "Segredo da B" not in text and "Farmacia B" not in text


async def test_device_filter_and_permissions(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await _populate(client, db_pool, "Farmacia A", "Produto da A")
    b = await _populate(client, db_pool, "Farmacia B", "Segredo da B")
    r = await client.get("/api/export/xlsx", params={"device": str(b["device_id"])}, headers=a["org"].headers)
    assert r.status_code == 404, "another organization's device does not exist"
    r = await client.get("/api/export/xlsx", params={"device": str(a["device_id"])}, headers=a["org"].headers)
    assert r.status_code == 200
    assert len(_sheet(load_workbook(io.BytesIO(r.content), read_only=True), "Interações")) == 4
    r = await client.get(
        "/api/export/xlsx", params={"from": "2020-01-01", "to": "2020-01-31"}, headers=a["org"].headers
    )
    assert r.status_code == 200
    assert len(_sheet(load_workbook(io.BytesIO(r.content), read_only=True), "Interações")) == 1, "header only"
    r = await client.get(
        "/api/export/xlsx", params={"from": "2020-02-01", "to": "2020-01-01"}, headers=a["org"].headers
    )
    assert r.status_code == 400
    r = await client.get("/api/export/xlsx")
    assert r.status_code == 401


async def test_only_org_admins_export(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await _populate(client, db_pool, "Farmacia A", "Produto da A")
    email = f"balconista-{uuid.uuid4().hex[:6]}@example.com"
    joined = await invite_and_join(client, a["org"], email, "member", password="senha-do-balcao-1")
    member = {"Authorization": f"Bearer {joined['accessToken']}"}
    r = await client.get("/api/export/xlsx", headers=member)
    assert r.status_code == 403
    device = await device_for_org(client, a["org"])
    r = await client.get("/api/export/xlsx", headers={"Authorization": f"Bearer {device['api_key']}"})
    assert r.status_code == 401


async def test_days_out_of_range_are_refused_not_crashed(client: httpx.AsyncClient) -> None:
    """The day after `to` and the default `from` must still be dates, in any report time zone."""
    org = await register(client, "Farmacia Datas")
    for params in ({"to": "9999-12-31"}, {"to": "0001-01-05"}, {"from": "0001-01-01", "to": "0001-01-02"}):
        r = await client.get("/api/export/xlsx", params=params, headers=org.headers)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["code"] == "invalid_request"
    r = await client.get("/api/export/xlsx", params={"from": "1970-01-01", "to": "1970-01-02"}, headers=org.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
