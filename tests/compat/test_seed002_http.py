"""Seed 002 (the Nest.js backend): its REST routes and session model, from its README's "API REST",
"Endpoints de Observabilidade" and "Modelo de Sessão". Socket.IO is tests/compat/test_seed002_socketio.py."""

from __future__ import annotations

import httpx

from tests.accounts.helpers import PASSWORD, register


async def test_get_root_is_the_api_status_as_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["status"] == "ok"
    # curl and other clients that accept anything keep the JSON; a browser asking for HTML gets the web
    # console (issue 16), which sends a visitor who is not signed in to its sign-in page.
    assert (await client.get("/", headers={"Accept": "*/*"})).json()["status"] == "ok"
    assert (await client.get("/")).json()["status"] == "ok"
    page = await client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 303 and page.headers["location"] == "/console/login"


async def test_get_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}


async def test_post_livekit_webhook_refuses_unsigned_events(client: httpx.AsyncClient) -> None:
    r = await client.post("/livekit/webhook", content=b"{}", headers={"Content-Type": "application/webhook+json"})
    assert r.status_code == 401


async def test_auth_register_login_refresh_logout_me(client: httpx.AsyncClient) -> None:
    org = await register(client, "Reuniões")
    pair = (await client.post("/auth/login", json={"email": org.email, "password": PASSWORD})).json()
    assert {"accessToken", "refreshToken"} <= set(pair)
    me = (await client.get("/auth/me", headers={"Authorization": f"Bearer {pair['accessToken']}"})).json()
    assert me["email"] == org.email and me["organization"]["id"] == org.org_id
    rotated = (await client.post("/auth/refresh", json={"refreshToken": pair["refreshToken"]})).json()
    assert rotated["refreshToken"] != pair["refreshToken"]
    r = await client.post("/auth/logout", json={"refreshToken": rotated["refreshToken"]})
    assert r.json() == {"status": "logged_out"}


async def test_feedback_debug_and_metrics_paths(client: httpx.AsyncClient) -> None:
    org = await register(client, "Reuniões")
    for path in ("/feedback/debug/RM_123", "/feedback/metrics/RM_123"):
        r = await client.get(path, headers=org.headers)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"  # no such meeting of theirs
        assert (await client.get(path)).status_code == 401


async def test_session_model_fields(client: httpx.AsyncClient) -> None:
    org = await register(client, "Reuniões")
    r = await client.get("/sessions", headers=org.headers)
    assert r.status_code == 200 and r.json()["items"] == []
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    session = next(v for k, v in schema.items() if k == "Session")
    assert {"id", "meetingId", "roomName", "roomSid", "status", "startedAt", "endedAt"} <= set(session["properties"])
