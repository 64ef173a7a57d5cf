"""Seed 002's host feedback over Socket.IO ("Feedback em Tempo Real"), as its host frontends use it.

From the seed: "Socket.IO: o anfitrião deve ingressar na sala `feedback:<meetingId>`", "Evento: `feedback`
com payload" (the JSON below, copied from the seed), and the demo gateway's events `message`, `join-room`,
`leave-room`. Escuta authenticates the socket with the host's access token and lets only members of the
meeting's organization join. Events reach every API process through PostgreSQL NOTIFY: here the event is
inserted by the worker's own function (`db.coach.insert_feedback`) and heard by two separate API apps.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
import socketio

from control_api.services.live_events import LiveEvents
from db import coach as coach_repo
from db import live
from db.tenancy import tenant_connection
from tests.accounts.helpers import Org, invite_and_join, register
from tests.conftest import make_settings
from tests.e2e import api_at, until

SEED_PAYLOAD: dict[str, Any] = {
    "id": "fb-uuid",
    "type": "volume_baixo",
    "severity": "warning",
    "ts": 1731368534123,
    "meetingId": "RM_123",
    "participantId": "user_abc",
    "window": {"start": 1731368531000, "end": 1731368534000},
    "message": "Fulano: volume baixo; aproxime-se do microfone.",
    "tips": ["Verifique entrada de áudio"],
    "metadata": {"rmsDbfs": -29.7, "speechCoverage": 0.62},
}


@pytest.fixture
async def apis(database_url: str, db_pool: asyncpg.Pool) -> AsyncIterator[tuple[str, str]]:
    """Two API apps (two processes' worth of state: each its own Socket.IO server and LISTEN connection)."""
    settings = make_settings(database_url=database_url)
    async with api_at("127.0.0.1", settings, db_pool) as one, api_at("127.0.0.1", settings, db_pool) as two:
        yield one, two


async def meeting(pool: asyncpg.Pool, org: Org) -> str:
    """A meeting of ``org`` as the LiveKit webhook records it (a session with its room sid)."""
    sid = f"RM_{uuid.uuid4().hex[:12]}"
    await pool.execute(
        "INSERT INTO sessions (meeting_id, room_name, room_sid, started_at, org_id) VALUES ($1, $2, $1, now(), $3)",
        sid,
        f"Reuniao-{sid}",
        uuid.UUID(org.org_id),
    )
    return sid


async def worker_stores(pool: asyncpg.Pool, org: Org, meeting_id: str) -> dict[str, Any]:
    """What the meeting coach does for each event: store it (the NOTIFY fires at commit)."""
    payload = copy.deepcopy(SEED_PAYLOAD)
    payload["id"] = f"fb-{uuid.uuid4()}"
    payload["meetingId"] = meeting_id
    org_id = uuid.UUID(org.org_id)
    async with tenant_connection(pool, org_id) as conn:
        await coach_repo.insert_feedback(conn, payload, org_id=org_id, recipients=("host",), latency_ms=12.0)
    return payload


class Host:
    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.received: list[dict[str, Any]] = []
        self.client.on("feedback", self._on_feedback)

    async def _on_feedback(self, data: dict[str, Any]) -> None:
        self.received.append(data)

    async def connect(self, base: str, token: str | None, *, header: bool = False) -> None:
        if header:
            await self.client.connect(base, headers={"Authorization": f"Bearer {token}"}, transports=["websocket"])
        else:
            await self.client.connect(base, auth={"token": token} if token else None, transports=["websocket"])


@pytest.fixture
async def hosts() -> AsyncIterator[list[Host]]:
    made: list[Host] = []
    yield made
    for h in made:
        if h.client.connected:
            await h.client.disconnect()


async def test_connect_needs_a_hosts_access_token(apis: tuple[str, str], hosts: list[Host]) -> None:
    base = apis[0]
    for token in (None, "not-a-jwt"):
        h = Host()
        hosts.append(h)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await h.connect(base, token)


async def test_host_joins_feedback_room_and_receives_the_seed_payload_from_any_api_process(
    apis: tuple[str, str], db_pool: asyncpg.Pool, hosts: list[Host]
) -> None:
    one, two = apis
    async with httpx.AsyncClient(base_url=one) as http:
        a, b = await register(http, "Clínica A"), await register(http, "Clínica B")
    rm_a, rm_b = await meeting(db_pool, a), await meeting(db_pool, b)
    host_one, host_two, host_b = Host(), Host(), Host()
    hosts += [host_one, host_two, host_b]
    await host_one.connect(one, a.access)  # the `auth` payload
    await host_two.connect(two, a.access, header=True)  # the Authorization header, on the other API process
    await host_b.connect(one, b.access)
    for h in (host_one, host_two):
        assert await h.client.call("join-room", f"feedback:{rm_a}") == {"ok": True, "room": f"feedback:{rm_a}"}
    # Another organization's meeting is not found; a malformed room is refused.
    refused = await host_b.client.call("join-room", f"feedback:{rm_a}")
    assert (refused["ok"], refused["error"]) == (False, "not_found")
    assert (await host_b.client.call("join", {"room": "reuniao"}))["error"] == "invalid_room"
    assert (await host_b.client.call("join", {"room": f"feedback:{rm_b}"}))["ok"] is True

    sent = await worker_stores(db_pool, a, rm_a)
    await until(lambda: bool(host_one.received and host_two.received), 30, "the feedback on both API processes")
    for h in (host_one, host_two):
        assert h.received == [sent]
        assert set(h.received[0]) == set(SEED_PAYLOAD)  # exactly seed 002's fields
    other = await worker_stores(db_pool, b, rm_b)
    await until(lambda: bool(host_b.received), 30, "B's feedback")
    await asyncio.sleep(0.5)
    assert host_b.received == [other] and len(host_one.received) == 1, "no organization sees another's events"

    # leave-room: nothing more arrives; the demo chat is not served.
    assert (await host_one.client.call("leave-room", f"feedback:{rm_a}"))["ok"] is True
    assert (await host_one.client.call("message", "olá"))["error"] == "not_supported"
    await worker_stores(db_pool, a, rm_a)
    await until(lambda: len(host_two.received) == 2, 30, "the second event on the host still in the room")
    await asyncio.sleep(0.5)
    assert len(host_one.received) == 1


async def test_a_removed_host_joins_nothing(apis: tuple[str, str], db_pool: asyncpg.Pool, hosts: list[Host]) -> None:
    """Issue 14: membership is checked at join time, not only when the socket connected."""
    async with httpx.AsyncClient(base_url=apis[0]) as http:
        a = await register(http, "Clínica A")
        joined = await invite_and_join(http, a, "anfitriao@example.com", "member")
        rm = await meeting(db_pool, a)
        host = Host()
        hosts.append(host)
        await host.connect(apis[0], joined["accessToken"])
        assert (await host.client.call("join-room", f"feedback:{rm}"))["ok"] is True
        me = (await http.get("/auth/me", headers={"Authorization": f"Bearer {joined['accessToken']}"})).json()
        assert (await http.delete(f"/members/{me['id']}", headers=a.headers)).status_code == 200
    refused = await host.client.call("join-room", f"feedback:{rm}")
    assert (refused["ok"], refused["error"]) == (False, "not_found")


async def test_live_events_feed_reports_sessions_and_reconnects(database_url: str, db_pool: asyncpg.Pool) -> None:
    feed = LiveEvents(database_url)
    got: list[dict[str, Any]] = []

    async def on_session(event: dict[str, Any]) -> None:
        got.append(event)

    feed.subscribe(live.SESSIONS_CHANNEL, on_session)
    try:
        await feed.wait_ready()
        await db_pool.execute(
            "INSERT INTO sessions (meeting_id, room_name, started_at) VALUES ('RM_live1', 'sala', $1)",
            datetime.now(UTC),
        )
        await until(lambda: len(got) == 1, 30, "the session notification")
        assert (got[0]["meeting"], got[0]["status"]) == ("RM_live1", "ACTIVE")
        # The LISTEN connection dies (e.g. a database restart): the feed listens again by itself.
        assert feed.listener is not None
        listener, pid = feed.listener, feed.listener.server_pid
        assert pid is not None
        await db_pool.execute("SELECT pg_terminate_backend($1)", pid)
        await until(lambda: listener.server_pid not in (None, pid), 30, "a new LISTEN")
        await feed.wait_ready()
        await db_pool.execute("UPDATE sessions SET status = 'ENDED' WHERE meeting_id = 'RM_live1'")
        await until(lambda: len(got) == 2, 30, "the notification after reconnecting")
        assert got[1]["status"] == "ENDED"
    finally:
        await feed.aclose()
