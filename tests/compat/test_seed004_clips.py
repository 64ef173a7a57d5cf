"""Seed 004 (Clipador backend): its "Endpoints úteis", exact paths, from its README."""

from __future__ import annotations

import httpx

from tests.accounts.helpers import PASSWORD, register


async def test_get_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).status_code == 200


async def test_post_auth_login(client: httpx.AsyncClient) -> None:
    org = await register(client, "Clipador")
    r = await client.post("/auth/login", json={"email": org.email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["accessToken"]


async def test_get_recent_bursts_with_since_minutes(client: httpx.AsyncClient) -> None:
    org = await register(client, "Clipador")
    r = await client.get("/clips/bursts/recent", params={"since_minutes": 60}, headers=org.headers)
    assert r.status_code == 200 and r.json()["since_minutes"] == 60


async def test_get_monitoring_presets(client: httpx.AsyncClient) -> None:
    org = await register(client, "Clipador")
    names = [p["name"] for p in (await client.get("/monitoring/presets", headers=org.headers)).json()["items"]]
    assert names == ["sensitive", "balanced", "conservative"]


async def test_post_monitoring_resolve(client: httpx.AsyncClient) -> None:
    org = await register(client, "Clipador")
    r = await client.post("/monitoring/resolve", json={"preset": "sensitive"}, headers=org.headers)
    assert r.status_code == 200 and r.json()["preset"] == "sensitive"


async def test_streams_list_create_delete(client: httpx.AsyncClient) -> None:
    org = await register(client, "Clipador")
    r = await client.post("/streams", json={"twitch_user_id": "77", "display_name": "x"}, headers=org.headers)
    assert r.status_code == 201
    assert [s["twitch_user_id"] for s in (await client.get("/streams", headers=org.headers)).json()["items"]] == ["77"]
    assert (await client.delete(f"/streams/{r.json()['id']}", headers=org.headers)).status_code == 204


async def test_get_health_worker(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/worker")
    assert r.status_code == 503 and r.json()["scheduler"]["alive"] is False  # no scheduler runs in this test
