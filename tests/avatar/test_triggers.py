"""Media triggers: accent- and case-insensitive matching, a per-trigger cooldown, `/context/resolve`."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from core.avatar.triggers import Trigger, TriggerMatcher, normalize, resolve
from db.tenancy import tenant_connection
from tests.accounts.helpers import device_for_org, register

CAFE = Trigger("t1", "café", ("promoção de café", "cafezinho"), "image", "https://cdn.example/cafe.png", "Café", 8)
PAO = Trigger("t2", "pão", ("pão de queijo",), "video", "https://cdn.example/pao.mp4", "Pão", 15, cooldown_seconds=0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_normalize_and_whole_word_matching() -> None:
    assert normalize("  PROMOÇÃO de Café!! ") == "promocao de cafe"
    assert [m.trigger.id for m in resolve([CAFE, PAO], "Tem PROMOCAO DE CAFE e pao de QUEIJO?")] == ["t1", "t2"]
    assert [m.phrase for m in resolve([CAFE], "um CAFEZINHO, por favor")] == ["cafezinho"]
    assert resolve([CAFE], "a cafeteria fechou") == [] and resolve([CAFE], "promoção do café") == []
    assert [m.phrase for m in resolve([CAFE], "CAFÉZINHO")] == ["cafezinho"]  # accents on either side
    # Order follows the text, not the configuration.
    assert [m.trigger.id for m in resolve([CAFE, PAO], "pão de queijo com cafezinho")] == ["t2", "t1"]


def test_cooldown_per_trigger_across_visitor_and_agent_text() -> None:
    clock = Clock()
    matcher = TriggerMatcher([CAFE, PAO], default_cooldown=30.0, clock=clock)
    assert [m.trigger.id for m in matcher.feed("Quero a promoção de café")] == ["t1"]  # the visitor
    clock.now += 5
    assert matcher.feed("Claro! A PROMOCAO DE CAFE vale hoje.") == []  # the agent, within the cooldown
    assert [m.trigger.id for m in matcher.feed("e pão de queijo")] == ["t2"]
    assert [m.trigger.id for m in matcher.feed("pão de queijo de novo")] == ["t2"]  # its own cooldown is 0
    clock.now += 25
    assert [m.trigger.id for m in matcher.feed("cafezinho")] == ["t1"]  # 30 s later it may fire again
    event = resolve([CAFE], "cafezinho")[0].event("agent")
    assert event == {
        "type": "media",
        "triggerId": "t1",
        "trigger": "café",
        "phrase": "cafezinho",
        "source": "agent",
        "media": {"type": "image", "url": "https://cdn.example/cafe.png", "title": "Café", "displaySeconds": 8},
    }


def trigger_body(name: str = "café", **extra: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "phrases": ["promoção de café", "cafezinho"],
        "media": {"type": "image", "url": "https://cdn.example/cafe.png", "title": "Café", "displaySeconds": 8},
    }
    return {**body, **extra}


async def test_trigger_crud_is_tenant_scoped(client: httpx.AsyncClient) -> None:
    a, b = await register(client, "A"), await register(client, "B")
    r = await client.post("/avatar/triggers", json=trigger_body(), headers=a.headers)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert r.json()["media"]["displaySeconds"] == 8 and r.json()["cooldownSeconds"] is None
    assert (await client.post("/avatar/triggers", json=trigger_body(), headers=a.headers)).status_code == 409
    r = await client.put(
        f"/avatar/triggers/{tid}", json=trigger_body(phrases=["expresso"], cooldownSeconds=5), headers=a.headers
    )
    assert r.status_code == 200 and r.json()["phrases"] == ["expresso"] and r.json()["cooldownSeconds"] == 5
    # B sees nothing of A's and cannot change it: as if it did not exist.
    assert (await client.get("/avatar/triggers", headers=b.headers)).json() == {"items": [], "nextCursor": None}
    for call in (client.get, client.delete):
        assert (await call(f"/avatar/triggers/{tid}", headers=b.headers)).status_code == 404
    assert (await client.put(f"/avatar/triggers/{tid}", json=trigger_body(), headers=b.headers)).status_code == 404
    assert (await client.get("/avatar/triggers/not-a-uuid", headers=a.headers)).status_code == 404
    bad = trigger_body(phrases=["!!!"])
    assert (await client.post("/avatar/triggers", json=bad, headers=a.headers)).status_code == 400
    bad = trigger_body(media={"type": "gif", "url": "https://x/y", "title": "t"})
    assert (await client.post("/avatar/triggers", json=bad, headers=a.headers)).status_code == 400
    assert (await client.delete(f"/avatar/triggers/{tid}", headers=a.headers)).status_code == 204
    assert (await client.get(f"/avatar/triggers/{tid}", headers=a.headers)).status_code == 404


async def test_context_resolve_agrees_with_the_matcher(client: httpx.AsyncClient) -> None:
    a, b = await register(client, "A"), await register(client, "B")
    await client.post("/avatar/triggers", json=trigger_body(), headers=a.headers)
    await client.post(
        "/avatar/triggers", json=trigger_body("off", phrases=["cafezinho"], enabled=False), headers=a.headers
    )
    device = await device_for_org(client, a)  # a frontend's device key resolves too
    text = "Vocês têm PROMOCAO de cafe?"
    r = await client.post("/context/resolve", json={"text": text}, headers={"X-API-Key": device["api_key"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matched"] is True and body["media"]["url"] == "https://cdn.example/cafe.png"
    assert [m["trigger"] for m in body["matches"]] == ["café"]
    rows = (await client.get("/avatar/triggers", headers=a.headers)).json()["items"]
    enabled = [
        Trigger(
            t["id"],
            t["name"],
            tuple(t["phrases"]),
            t["media"]["type"],
            t["media"]["url"],
            t["media"]["title"],
            t["media"]["displaySeconds"],
        )
        for t in rows
        if t["enabled"]
    ]
    assert [m.event("api") for m in resolve(enabled, text)] == body["matches"]
    # Another organization's triggers never answer, and a credential is required.
    assert (await client.post("/context/resolve", json={"text": text}, headers=b.headers)).json()["matched"] is False
    assert (await client.post("/context/resolve", json={"text": text})).status_code == 401


async def test_avatar_tables_are_isolated_by_row_level_security(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, admin_headers: dict[str, str]
) -> None:
    orgs = [await register(client, "A"), await register(client, "B")]
    for org in orgs:
        config = {
            "avatarId": "0f3b7c5e-1a2b-4c3d-8e9f-0123456789ab",
            "voice": {"ttsProvider": "openai", "voiceId": "coral"},
        }
        assert (await client.put("/avatar/config", json=config, headers=org.headers)).status_code == 200
        assert (await client.post("/avatar/triggers", json=trigger_body(), headers=org.headers)).status_code == 201
        await client.post("/credits/grants", json={"orgId": org.org_id, "amount": "1"}, headers=admin_headers)
    a = uuid.UUID(orgs[0].org_id)
    async with tenant_connection(db_pool, a) as conn:
        for table in ("avatar_configs", "media_triggers", "credit_ledger"):
            # Deliberately unfiltered: row-level security alone keeps B's rows out.
            assert {r["org_id"] for r in await conn.fetch(f"SELECT org_id FROM {table}")} == {a}, table
