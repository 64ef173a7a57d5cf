"""`POST /livekit/webhook`: verified against the raw body, stored once, converging out of order."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET
from tests.webhook_signing import event_body, sign

T0 = 1_763_712_000


async def post(client: httpx.AsyncClient, body: bytes, auth: str | None = "sign") -> httpx.Response:
    headers = {"Content-Type": "application/webhook+json"}
    if auth == "sign":
        headers["Authorization"] = sign(body, TEST_LK_KEY, TEST_LK_SECRET)
    elif auth is not None:
        headers["Authorization"] = auth
    return await client.post("/livekit/webhook", content=body, headers=headers)


async def counts(pool: asyncpg.Pool) -> tuple[int, int, int, int]:
    async with pool.acquire() as c:
        return (
            await c.fetchval("SELECT count(*) FROM livekit_events"),
            await c.fetchval("SELECT count(*) FROM sessions"),
            await c.fetchval("SELECT count(*) FROM session_participants"),
            await c.fetchval("SELECT count(*) FROM session_tracks"),
        )


async def test_signed_room_started_creates_session(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    r = await post(client, event_body("room_started", room_sid="RM_1", room_name="aula", created_at=T0))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "stored"
    async with db_pool.acquire() as c:
        row = await c.fetchrow("SELECT * FROM sessions WHERE meeting_id = 'RM_1'")
    assert row is not None
    assert (row["room_name"], row["room_sid"], row["status"]) == ("aula", "RM_1", "ACTIVE")
    assert row["started_at"].timestamp() == T0
    assert row["ended_at"] is None


@pytest.mark.parametrize(
    "case",
    ["bad_signature", "missing_header", "other_body", "wrong_key", "malformed_json", "garbage_token"],
)
async def test_rejected_without_writing(client: httpx.AsyncClient, db_pool: asyncpg.Pool, case: str) -> None:
    body = event_body("room_started", room_sid="RM_bad", created_at=T0)
    if case == "bad_signature":
        r = await post(client, body, auth=sign(body, TEST_LK_KEY, "not-the-secret-xxxxxxxxxxxxxxxxxxxx"))
        expected = 401
    elif case == "missing_header":
        r = await post(client, body, auth=None)
        expected = 401
    elif case == "other_body":
        other = event_body("room_started", room_sid="RM_other", created_at=T0)
        r = await post(client, body, auth=sign(other, TEST_LK_KEY, TEST_LK_SECRET))
        expected = 401
    elif case == "wrong_key":
        r = await post(client, body, auth=sign(body, "APIother", TEST_LK_SECRET))
        expected = 401
    elif case == "malformed_json":
        junk = b'{"event": "room_started", "room": {'
        r = await post(client, junk)
        expected = 400
    else:
        r = await post(client, body, auth="not.a.jwt")
        expected = 401
    assert r.status_code == expected, r.text
    err = r.json()["error"]
    assert err["code"] and err["message"]
    assert await counts(db_pool) == (0, 0, 0, 0)


async def test_duplicate_event_is_a_noop(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    started = event_body("room_started", room_sid="RM_d", created_at=T0, event_id="EV_same")
    assert (await post(client, started)).json()["status"] == "stored"
    finished = event_body("room_finished", room_sid="RM_d", created_at=T0 + 60, event_id="EV_fin")
    assert (await post(client, finished)).status_code == 200
    # The same room_started again (LiveKit retry): acknowledged, and the session stays ENDED.
    r = await post(client, started)
    assert r.status_code == 200
    assert r.json() == {"status": "duplicate", "id": "EV_same"}
    async with db_pool.acquire() as c:
        row = await c.fetchrow("SELECT status, ended_at FROM sessions WHERE meeting_id = 'RM_d'")
        n = await c.fetchval("SELECT count(*) FROM livekit_events")
    assert row is not None and row["status"] == "ENDED"
    assert n == 2


def _meeting_events(sid: str) -> list[bytes]:
    alice = {"sid": "PA_alice", "identity": "alice", "name": "Alice", "joined_at": T0 + 5}
    return [
        event_body("room_started", room_sid=sid, created_at=T0, room_created=T0),
        event_body("participant_joined", room_sid=sid, created_at=T0 + 5, participant=alice, room_created=T0),
        event_body(
            "track_published",
            room_sid=sid,
            created_at=T0 + 6,
            participant=alice,
            track={"sid": "TR_mic", "type": 0, "source": 2, "name": "mic"},
            room_created=T0,
        ),
        event_body(
            "track_unpublished",
            room_sid=sid,
            created_at=T0 + 50,
            participant=alice,
            track={"sid": "TR_mic", "type": 0, "source": 2},
            room_created=T0,
        ),
        event_body("participant_left", room_sid=sid, created_at=T0 + 55, participant=alice, room_created=T0),
        event_body("room_finished", room_sid=sid, created_at=T0 + 60, room_created=T0),
    ]


async def _snapshot(client: httpx.AsyncClient, meeting_id: str, headers: dict[str, str]) -> dict[str, object]:
    r = await client.get(f"/sessions/{meeting_id}", headers=headers)
    assert r.status_code == 200, r.text
    data: dict[str, object] = r.json()
    data.pop("id")
    data.pop("meetingId")
    data.pop("roomSid")
    return data


@pytest.mark.parametrize("order", ["in_order", "reversed", "shuffled"])
async def test_out_of_order_events_converge(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, admin_headers: dict[str, str], order: str
) -> None:
    ordered = _meeting_events("RM_ref")
    for b in ordered:
        assert (await post(client, b)).status_code == 200
    reference = await _snapshot(client, "RM_ref", admin_headers)
    assert reference["status"] == "ENDED"
    participants = reference["participants"]
    assert isinstance(participants, list) and len(participants) == 1
    alice = participants[0]
    assert alice["identity"] == "alice" and alice["durationSeconds"] == 50.0
    assert alice["tracks"][0]["sid"] == "TR_mic" and alice["tracks"][0]["kind"] == "AUDIO"
    assert alice["tracks"][0]["source"] == "MICROPHONE"

    events = _meeting_events("RM_x")
    if order == "reversed":
        events = events[::-1]
    elif order == "shuffled":
        events = [events[i] for i in (3, 1, 5, 0, 4, 2)]
    for b in events:
        assert (await post(client, b)).status_code == 200
    assert await _snapshot(client, "RM_x", admin_headers) == reference


async def test_restart_after_finish_reactivates(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    await post(client, event_body("room_started", room_sid="RM_r", created_at=T0))
    await post(client, event_body("room_finished", room_sid="RM_r", created_at=T0 + 10))
    await post(client, event_body("room_started", room_sid="RM_r", created_at=T0 + 20))
    s = (await client.get("/sessions/RM_r", headers=admin_headers)).json()
    assert s["status"] == "ACTIVE" and s["endedAt"] is None
