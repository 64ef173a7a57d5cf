"""Webhooks from the test server: signed like LiveKit's, accepted by livekit-api and by Escuta's route."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp import web
from livekit import api

from tests.conftest import make_settings
from tests.e2e import api_on_veth, server_keys, until
from tests.local_http import serve

from .client import Tone, connect
from .fixtures import LiveKitServer

pytestmark = pytest.mark.livekit


@contextlib.asynccontextmanager
async def raw_receiver(host: str) -> AsyncIterator[tuple[str, list[tuple[dict[str, str], str]]]]:
    """An HTTP endpoint on our veth address that records every POST (headers, body)."""
    got: list[tuple[dict[str, str], str]] = []

    async def record(request: web.Request) -> web.Response:
        got.append((dict(request.headers), await request.text()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", record)
    runner, port = await serve(app, host)
    try:
        yield f"http://{host}:{port}/hook", got
    finally:
        await runner.cleanup()


async def test_signed_webhooks_record_the_session(
    livekit_server: LiveKitServer, db_pool: asyncpg.Pool, database_url: str
) -> None:
    name = livekit_server.room_name("hooks")
    async with (
        raw_receiver(livekit_server.host_ip) as (raw_url, got),
        api_on_veth(
            livekit_server, make_settings(**server_keys(livekit_server), database_url=database_url), db_pool
        ) as escuta_base,
    ):
        livekit_server.set_webhook_urls([raw_url, f"{escuta_base}/livekit/webhook"])
        try:
            # departure_timeout=1: the room closes (room_finished) a second after the last one leaves.
            cfg = api.RoomConfiguration(departure_timeout=1)
            alice = await connect(livekit_server, "alice", name, name="Alice", room_config=cfg)
            bob = await connect(livekit_server, "bob", name)
            tone = Tone(440.0)
            pub = await tone.publish(alice)
            await asyncio.sleep(0.3)
            await alice.local_participant.unpublish_track(pub.sid)
            await tone.aclose()
            await asyncio.gather(alice.disconnect(), bob.disconnect())

            def events() -> list[str]:
                return [body for _, body in got]

            async def finished() -> bool:
                return any('"room_finished"' in b and name in b for b in events())

            await until(finished, 15, "room_finished")

            async def recorded() -> bool:
                async with db_pool.acquire() as c:
                    status = await c.fetchval("SELECT status FROM sessions WHERE room_name = $1", name)
                return bool(status == "ENDED")

            await until(recorded, 15, "the ENDED session")
        finally:
            livekit_server.set_webhook_urls([])

    # Every delivery verifies with livekit-api's receiver, exactly as LiveKit's would.
    receiver = api.WebhookReceiver(api.TokenVerifier(livekit_server.api_key, livekit_server.api_secret))
    mine = []
    for headers, body in got:
        assert headers["Content-Type"] == "application/webhook+json"
        assert not headers["Authorization"].startswith("Bearer")
        ev = receiver.receive(body, headers["Authorization"])
        if ev.room.name == name:
            mine.append(ev)
    names = [ev.event for ev in mine]
    assert names[0] == "room_started" and names[-1] == "room_finished"
    for expected in ("participant_joined", "track_published", "track_unpublished", "participant_left"):
        assert expected in names
    assert names.count("participant_joined") == 2 and names.count("participant_left") == 2
    assert len({ev.id for ev in mine}) == len(mine)
    assert '"createdAt"' in got[0][1] and '"creationTime"' in got[0][1]  # protojson camelCase
    with pytest.raises(Exception, match="hash mismatch"):
        receiver.receive(got[0][1] + " ", got[0][0]["Authorization"])

    async with db_pool.acquire() as c:
        session = await c.fetchrow("SELECT * FROM sessions WHERE room_name = $1", name)
        assert session is not None
        people = await c.fetch(
            "SELECT identity, name, left_at FROM session_participants WHERE session_id = $1 ORDER BY identity",
            session["id"],
        )
        tracks = await c.fetch("SELECT * FROM session_tracks WHERE session_id = $1", session["id"])
    assert session["room_sid"] == mine[0].room.sid and session["ended_at"] is not None
    assert [p["identity"] for p in people] == ["alice", "bob"] and people[0]["name"] == "Alice"
    assert all(p["left_at"] is not None for p in people)
    assert [(t["track_sid"], t["participant_identity"]) for t in tracks] == [(pub.sid, "alice")]
    assert tracks[0]["unpublished_at"] is not None
