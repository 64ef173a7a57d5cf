"""Seed 004's routes: bursts, streams, monitoring presets, all scoped to the caller's organization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import httpx

from core.clips.source import ClipRecord
from core.security.tokens import issue_access
from core.settings import Settings
from db.bursts import refresh_bursts
from db.clips import upsert_clips
from db.tenancy import tenant_connection
from tests.accounts.helpers import PASSWORD, register
from tests.clips.factories import make_org, make_streamer, member_id


def auth(settings: Settings, org: UUID, role: str = "admin") -> dict[str, str]:
    """An access token of ``make_org``'s user with ``role`` (a real membership: roles come from it)."""
    token = issue_access(settings, user_id=member_id(org, role), org_id=org, role=role, platform_admin=False)
    return {"Authorization": f"Bearer {token}"}


async def _burst_ending(pool: asyncpg.Pool, org: UUID, sid: UUID, minutes_ago: float, tag: str) -> None:
    end = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    clips = [ClipRecord(f"{tag}{i}", "1", end - timedelta(seconds=10 * i), 5, "t", 30.0) for i in range(3)]
    async with tenant_connection(pool, org) as conn:
        res = await upsert_clips(conn, org, sid, clips, "csv")
        assert res.earliest_new is not None
        await refresh_bursts(conn, org, sid, res.earliest_new)


async def test_recent_bursts_honour_since_minutes_and_tenant(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    org_a, org_b = await make_org(db_pool, "A"), await make_org(db_pool, "B")
    sa = await make_streamer(db_pool, org_a, settings, twitch_user_id="1")
    sb = await make_streamer(db_pool, org_b, settings, twitch_user_id="1")
    await _burst_ending(db_pool, org_a, sa, 30, "recent")
    await _burst_ending(db_pool, org_a, sa, 180, "old")
    await _burst_ending(db_pool, org_b, sb, 5, "other")

    r = await client.get("/clips/bursts/recent", headers=auth(settings, org_a))
    assert r.status_code == 200
    body = r.json()
    assert body["since_minutes"] == 60
    assert [b["clips"][0]["clip_id"] for b in body["items"]] == ["recent2"]
    assert body["items"][0]["clip_count"] == 3 and body["items"][0]["streamer"]["twitch_user_id"] == "1"
    assert '"duration":30,' in r.text, "a whole duration stays an integer, as PostgreSQL's JSON wrote it"

    r = await client.get("/clips/bursts/recent?since_minutes=240", headers=auth(settings, org_a))
    assert [b["clips"][0]["clip_id"] for b in r.json()["items"]] == ["recent2", "old2"]

    r = await client.get("/clips/bursts/recent?since_minutes=240", headers=auth(settings, org_b))
    assert [b["clips"][0]["clip_id"] for b in r.json()["items"]] == ["other2"]

    r = await client.get("/clips/bursts/recent?since_minutes=0", headers=auth(settings, org_a))
    assert r.status_code == 400 and "since_minutes" in r.json()["error"]["message"]
    assert (await client.get("/clips/bursts/recent")).status_code == 401


async def test_streams_lifecycle(client: httpx.AsyncClient, db_pool: asyncpg.Pool, settings: Settings) -> None:
    org, other = await make_org(db_pool, "A"), await make_org(db_pool, "B")
    h = auth(settings, org)
    body = {
        "twitch_user_id": "4242",
        "display_name": "Gaules",
        "preset": "sensitive",
        "twitch_client_id": "own-client",
        "twitch_client_secret": "own-secret-value-123",
    }
    r = await client.post("/streams", json=body, headers=h)
    assert r.status_code == 201, r.text
    s = r.json()
    assert (s["monitor_preset"], s["monitor_interval_seconds"], s["monitor_min_clips"]) == ("sensitive", 60, 3)
    assert s["api_mode"] == "client" and s["twitch_client_secret_hint"] == "…-123"
    assert "own-secret-value-123" not in r.text
    stored = await db_pool.fetchval("SELECT twitch_client_secret FROM streamers")
    assert b"own-secret-value-123" not in bytes(stored)

    assert (await client.post("/streams", json=body, headers=h)).status_code == 409
    listed = (await client.get("/streams", headers=h)).json()["items"]
    assert [x["id"] for x in listed] == [s["id"]]
    assert (await client.get("/streams", headers=auth(settings, other))).json()["items"] == []

    assert (await client.delete(f"/streams/{s['id']}", headers=auth(settings, other))).status_code == 404
    assert (await client.delete(f"/streams/{s['id']}", headers=h)).status_code == 204
    assert (await client.get("/streams", headers=h)).json()["items"] == []
    assert (await client.delete(f"/streams/{s['id']}", headers=h)).status_code == 404
    again = await client.post("/streams", json=body, headers=h)  # monitoring resumes, same row
    assert again.status_code == 201 and again.json()["id"] == s["id"]


async def test_streams_validation_and_roles(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    org = await make_org(db_pool)
    h = auth(settings, org)
    bad = {"twitch_user_id": "1", "display_name": "x", "monitor_min_clips": 1}
    r = await client.post("/streams", json=bad, headers=h)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("monitor_min_clips:")
    r = await client.post("/streams", json={"twitch_user_id": "abc", "display_name": "x"}, headers=h)
    assert r.status_code == 400 and "twitch_user_id" in r.json()["error"]["message"]
    r = await client.post(
        "/streams", json={"twitch_user_id": "1", "display_name": "x", "api_mode": "client"}, headers=h
    )
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("api_mode:")
    member = auth(settings, org, role="member")
    assert (
        await client.post("/streams", json={"twitch_user_id": "1", "display_name": "x"}, headers=member)
    ).status_code == 403
    assert (await client.get("/streams", headers=member)).status_code == 200


async def test_presets_and_resolve(client: httpx.AsyncClient, db_pool: asyncpg.Pool, settings: Settings) -> None:
    org, other = await make_org(db_pool, "A"), await make_org(db_pool, "B")
    h = auth(settings, org)
    presets = (await client.get("/monitoring/presets", headers=h)).json()["items"]
    assert [(p["name"], p["monitor_interval_seconds"], p["monitor_min_clips"]) for p in presets] == [
        ("sensitive", 60, 3),
        ("balanced", 120, 5),
        ("conservative", 300, 10),
    ]

    r = await client.post("/monitoring/resolve", json={}, headers=h)
    assert r.json()["preset"] == "balanced" and r.json()["monitor_min_clips"] == 5
    r = await client.post("/monitoring/resolve", json={"preset": "sensitive", "monitor_min_clips": 4}, headers=h)
    assert r.json() == {
        "preset": None,
        "monitor_interval_seconds": 60,
        "monitor_min_clips": 4,
        "sources": {"monitor_interval_seconds": "preset", "monitor_min_clips": "override"},
    }
    r = await client.post("/monitoring/resolve", json={"monitor_interval_seconds": 5}, headers=h)
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "monitor_interval_seconds"
    r = await client.post("/monitoring/resolve", json={"preset": "loud"}, headers=h)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("preset:")

    sid = await make_streamer(db_pool, org, settings, interval=90, min_clips=4)
    r = await client.post("/monitoring/resolve", json={"streamer_id": str(sid), "monitor_min_clips": 6}, headers=h)
    assert (r.json()["monitor_interval_seconds"], r.json()["monitor_min_clips"]) == (90, 6)
    assert r.json()["sources"]["monitor_interval_seconds"] == "streamer"
    r = await client.post("/monitoring/resolve", json={"streamer_id": str(sid)}, headers=auth(settings, other))
    assert r.status_code == 404


async def test_login_then_streams_end_to_end(client: httpx.AsyncClient) -> None:
    org = await register(client, "Clipador")
    r = await client.post("/auth/login", json={"email": org.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    h = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    r = await client.post("/streams", json={"twitch_user_id": "77", "display_name": "x"}, headers=h)
    assert r.status_code == 201 and r.json()["monitor_preset"] == "balanced"
    assert len((await client.get("/streams", headers=h)).json()["items"]) == 1
    assert (await client.get("/clips/bursts/recent", headers=h)).json()["items"] == []
