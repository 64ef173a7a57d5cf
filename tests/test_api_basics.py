"""Health, readiness, metrics and the error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import APIRouter

from control_api.app import create_app
from core.settings import Settings
from db.pool import create_pool
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET
from tests.pg import create_database, drop_database
from tests.webhook_signing import event_body, sign


async def test_health(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_ready_when_migrated(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/ready")
    assert r.status_code == 200 and r.json()["status"] == "ready"


@pytest.fixture
async def unmigrated_pool(pg_admin_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    dsn = await create_database(pg_admin_dsn, prefix="escuta_unmig")
    pool = await create_pool(dsn, min_size=0, max_size=2)
    yield pool
    await pool.close()
    await drop_database(pg_admin_dsn, dsn)


async def test_not_ready_with_pending_migrations(settings: Settings, unmigrated_pool: asyncpg.Pool) -> None:
    app = create_app(settings, pool=unmigrated_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/health/ready")
    assert r.status_code == 503
    assert "0001_sessions" in r.json()["pending_migrations"]


async def test_metrics_count_routes_and_webhooks(client: httpx.AsyncClient) -> None:
    body = event_body("room_started", room_sid="RM_m")
    await client.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )
    await client.post("/livekit/webhook", content=body, headers={"Authorization": "bad"})
    await client.get("/sessions/RM_whatever")
    text = (await client.get("/metrics")).text
    assert 'escuta_http_requests_total{method="POST",route="/livekit/webhook",status="200"} 1.0' in text
    assert 'escuta_http_requests_total{method="GET",route="/sessions/{meeting_id}",status="401"} 1.0' in text
    assert 'escuta_livekit_webhook_events_total{event="room_started",outcome="stored"} 1.0' in text
    assert 'escuta_livekit_webhook_events_total{event="unknown",outcome="rejected"} 1.0' in text
    assert "escuta_http_request_duration_seconds_bucket" in text


async def test_unhandled_error_is_json_without_internals(settings: Settings, db_pool: asyncpg.Pool) -> None:
    app = create_app(settings, pool=db_pool)
    boom = APIRouter()

    @boom.get("/boom")
    async def _boom() -> None:
        raise RuntimeError("SELECT secret FROM somewhere")

    app.include_router(boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/boom")
        missing = await c.get("/no-such-route")
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["code"] == "internal_error" and "SELECT" not in r.text and "Traceback" not in r.text
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_cors_answers_browsers_and_varies_on_origin(client: httpx.AsyncClient) -> None:
    """The lean path (no Origin) and Starlette's (an Origin) both mark responses as varying by Origin."""
    plain = await client.get("/health/live")
    assert "Origin" in plain.headers.get_list("vary")
    assert "access-control-allow-origin" not in plain.headers
    preflight = await client.options(
        "/token", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers.get("access-control-allow-origin") == "http://localhost:5173"
    browser = await client.get("/health/live", headers={"Origin": "http://localhost:5173"})
    assert browser.headers.get("access-control-allow-origin") == "http://localhost:5173"
    stranger = await client.get("/health/live", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers
