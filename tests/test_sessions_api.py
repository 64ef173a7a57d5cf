"""Session read routes: behind the admin secret, filters, 404s in the error shape."""

from __future__ import annotations

import httpx

from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET
from tests.webhook_signing import event_body, sign


async def _send(client: httpx.AsyncClient, body: bytes) -> None:
    r = await client.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )
    assert r.status_code == 200


async def test_sessions_require_admin(client: httpx.AsyncClient) -> None:
    r = await client.get("/sessions")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    r = await client.get("/sessions", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


async def test_list_and_filter(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    await _send(client, event_body("room_started", room_sid="RM_a", room_name="alpha", created_at=1000))
    await _send(client, event_body("room_started", room_sid="RM_b", room_name="beta", created_at=2000))
    await _send(client, event_body("room_finished", room_sid="RM_b", room_name="beta", created_at=3000))
    r = await client.get("/sessions", headers=admin_headers)
    assert [s["meetingId"] for s in r.json()["items"]] == ["RM_b", "RM_a"]
    r = await client.get("/sessions", params={"status": "ACTIVE"}, headers=admin_headers)
    assert [s["roomName"] for s in r.json()["items"]] == ["alpha"]
    r = await client.get("/sessions", params={"room": "beta"}, headers=admin_headers)
    assert [s["status"] for s in r.json()["items"]] == ["ENDED"]
    r = await client.get("/sessions", params={"status": "BOGUS"}, headers=admin_headers)
    assert r.status_code == 400
    assert "status" in r.json()["error"]["message"]


async def test_unknown_session_is_404(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    r = await client.get("/sessions/RM_nope", headers=admin_headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
