"""`GET /sessions/{meetingId}/transcript`: JSON, valid WebVTT, and organizations kept apart."""

from __future__ import annotations

import io
import uuid

import asyncpg
import httpx
import webvtt

from control_api.schemas.transcription import TranscriptItem, to_webvtt
from db.tenancy import tenant_connection
from db.transcription import TranscriptRow, insert_transcript
from tests.accounts.helpers import Org, register


async def store(pool: asyncpg.Pool, org: str | None, meeting: str, rows: list[TranscriptRow]) -> None:
    async with tenant_connection(pool, org) as conn:
        for row in rows:
            assert await insert_transcript(conn, row)


def utterances(meeting: str, org: str | None) -> list[TranscriptRow]:
    o = uuid.UUID(org) if org else None
    return [
        TranscriptRow(
            meeting,
            "s1",
            "alice",
            1.02,
            3.5,
            "ok",
            org_id=o,
            text="Good morning <everyone> & all",
            language="en",
            provider="local",
            confidence=0.8,
            latency_ms=120.0,
        ),
        TranscriptRow(
            meeting,
            "s2",
            "bob",
            2.0,
            4.25,
            "ok",
            org_id=o,
            text="Hi --> there\nAlice",
            language="en",
            provider="openai",
        ),
        TranscriptRow(
            meeting,
            "s3",
            "alice",
            65.5,
            66.0,
            "failed",
            org_id=o,
            failure_reason="local: timeout",
            audio_ref="/data/failed/s3.wav",
        ),
    ]


async def test_json_lists_every_utterance_in_time_order(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await register(client, "Org A")
    await store(db_pool, a.org_id, "RM_a", utterances("RM_a", a.org_id))
    r = await client.get("/sessions/RM_a/transcript", headers=a.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [i["segmentId"] for i in body["items"]] == ["s1", "s2", "s3"]
    assert body["failed"] == 1
    failed = body["items"][2]
    assert failed["status"] == "failed" and failed["failureReason"] == "local: timeout"
    assert failed["audioRef"] == "/data/failed/s3.wav" and failed["text"] is None
    first = body["items"][0]
    assert (first["participantIdentity"], first["start"], first["end"]) == ("alice", 1.02, 3.5)
    assert first["provider"] == "local" and first["language"] == "en"


async def test_webvtt_is_valid_and_voices_each_speaker(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await register(client, "Org A")
    await store(db_pool, a.org_id, "RM_v", utterances("RM_v", a.org_id))
    r = await client.get("/sessions/RM_v/transcript?format=vtt", headers=a.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/vtt")
    by_accept = await client.get("/sessions/RM_v/transcript", headers={**a.headers, "Accept": "text/vtt"})
    assert by_accept.text == r.text
    # An independent parser (webvtt-py) reads it back: header, timings, voices, escaped text.
    captions = webvtt.from_buffer(io.StringIO(r.text)).captions
    assert [(c.start, c.end) for c in captions] == [("00:00:01.020", "00:00:03.500"), ("00:00:02.000", "00:00:04.250")]
    assert [c.voice for c in captions] == ["alice", "bob"]
    assert captions[0].raw_text.endswith("Good morning &lt;everyone&gt; &amp; all")
    assert "-->" not in captions[1].raw_text and "\n" not in captions[1].raw_text
    assert r.text.startswith("WEBVTT\n\n")


def test_webvtt_cues_always_end_after_they_start() -> None:
    item = TranscriptItem(status="ok", text="hm", start=10.0, end=10.0, segmentId="s", participantIdentity="x")
    captions = webvtt.from_buffer(io.StringIO(to_webvtt([item]))).captions
    assert (captions[0].start, captions[0].end) == ("00:00:10.000", "00:00:10.001")
    assert to_webvtt([]) == "WEBVTT\n"


async def test_another_organization_cannot_see_it(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a: Org = await register(client, "Org A")
    b: Org = await register(client, "Org B")
    await store(db_pool, a.org_id, "RM_secret", utterances("RM_secret", a.org_id))
    for fmt in ("json", "vtt"):
        r = await client.get(f"/sessions/RM_secret/transcript?format={fmt}", headers=b.headers)
        assert r.status_code == 404, r.text
    # Even reading the table directly inside B's scope finds nothing (row-level security).
    async with tenant_connection(db_pool, b.org_id) as conn:
        assert await conn.fetchval("SELECT count(*) FROM transcripts") == 0
    ok = await client.get("/sessions/RM_secret/transcript", headers=a.headers)
    assert ok.status_code == 200 and len(ok.json()["items"]) == 3


async def test_unknown_meeting_and_no_token(client: httpx.AsyncClient) -> None:
    a = await register(client, "Org A")
    assert (await client.get("/sessions/RM_none/transcript", headers=a.headers)).status_code == 404
    assert (await client.get("/sessions/RM_none/transcript")).status_code == 401


async def test_writing_a_segment_twice_keeps_one(db_pool: asyncpg.Pool, client: httpx.AsyncClient) -> None:
    a = await register(client, "Org A")
    row = utterances("RM_d", a.org_id)[0]
    async with tenant_connection(db_pool, a.org_id) as conn:
        assert await insert_transcript(conn, row)
        assert not await insert_transcript(conn, row)
        assert await conn.fetchval("SELECT count(*) FROM transcripts") == 1
