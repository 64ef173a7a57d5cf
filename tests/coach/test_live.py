"""End to end through the LiveKit test server: `escuta worker` coaches a live meeting.

A host (a member of the organization: `/token` gives them `{"roles":["host"]}`) and three guests
publish their recordings as microphone tracks: Bruno far too quiet, Eva and Fábio talking over each
other. The real `escuta worker` runs the `meeting_coach` profile (chosen by the solution, dispatched by
the token); only the host receives feedback, on `escuta.coach.feedback`, with seed 002's payload;
the guests receive nothing; the events are stored and `GET /feedback/metrics/{meetingId}` reports
them. The test server relays audio through aiortc (decoded and re-encoded as Opus), so the levels
and timings the coach sees are close to, not exactly, the recordings' (see tests/livekit_sim/README.md).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
import numpy.typing as npt
import pytest
from livekit import rtc

from agents.audio.frames import frames_from_array
from agents.coach.feedback import FEEDBACK_TOPIC
from control_api.app import create_app
from db import coach as repo
from db.tenancy import tenant_connection
from tests.accounts.helpers import put_solution, register, token_body
from tests.coach.meetings import LIVE, LIVE_LENGTH, NAMES, Meeting, build
from tests.e2e import api_on_veth, room_settings, until
from tests.livekit_sim.fixtures import LiveKitServer
from tests.livekit_sim.workers import running_agent_worker

pytestmark = pytest.mark.livekit

PAYLOAD_KEYS = {"id", "type", "severity", "ts", "meetingId", "participantId", "window", "message", "tips", "metadata"}
SR = 16_000


@dataclass
class Member:
    who: str  # the plan's name (ana, bruno, ...)
    room: rtc.Room
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (sender, payload)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def listen(self) -> None:
        async def read(reader: rtc.TextStreamReader, sender: str) -> None:
            self.received.append((sender, json.loads(await reader.read_all())))

        def on_stream(reader: rtc.TextStreamReader, sender: str) -> None:
            task = asyncio.ensure_future(read(reader, sender))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self.room.register_text_stream_handler(FEEDBACK_TOPIC, on_stream)


async def publish(room: rtc.Room) -> rtc.AudioSource:
    source = rtc.AudioSource(SR, 1)
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    await room.local_participant.publish_track(track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
    return source


async def play(source: rtc.AudioSource, audio: npt.NDArray[np.int16]) -> None:
    for frame in frames_from_array(audio, SR, 20):
        await source.capture_frame(frame)  # paces at real time (bounded queue)
    await source.wait_for_playout()


@pytest.fixture(scope="module")
def live_recordings(tmp_path_factory: pytest.TempPathFactory) -> Meeting:
    return build(LIVE, LIVE_LENGTH, tmp_path_factory.mktemp("live-rec"))


async def test_only_the_host_is_coached_in_a_live_meeting(
    livekit_server: LiveKitServer,
    live_recordings: Meeting,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
) -> None:
    agent = f"escuta-coach-{secrets.token_hex(3)}"
    settings = room_settings(livekit_server, database_url, agent)
    storage = tmp_path / "storage"
    worker_env = {
        "ESCUTA_DATABASE_URL": database_url,
        "ESCUTA_AGENT_NAME": agent,
        "ESCUTA_WORKER_HTTP_PORT": "0",
        "ESCUTA_WORKER_LOAD_THRESHOLD": "1000",  # a busy 2-core box must not make it refuse the job
        "ESCUTA_WORKER_NUM_IDLE_PROCESSES": "1",
        "ESCUTA_RECORDINGS_DIR": str(storage),
    }
    argv = [sys.executable, "-m", "escuta.cli", "worker"]
    members: list[Member] = []
    async with (
        api_on_veth(livekit_server, settings, db_pool) as base,
        httpx.AsyncClient(base_url=base) as http,
        running_agent_worker(livekit_server, tmp_path / "worker.log", agent_name=agent, argv=argv, env=worker_env),
    ):
        livekit_server.set_webhook_urls([f"{base}/livekit/webhook"])
        try:
            org = await register(http, "Org Coach")
            org_id = uuid.UUID(org.org_id)
            await put_solution(http, org, "Meet", "meeting_coach")
            async with tenant_connection(db_pool, org_id) as conn:
                # This organization's thresholds: the test waits after the recordings end, and that
                # wait must not read as a silence nobody breaks. Its audio is recorded too.
                await repo.set_coach_settings(conn, org_id, {"silence_seconds": 600.0}, recordings_enabled=True)
            minted = await http.post("/token", json=token_body(org.org_id, "Meet", "ana"), headers=org.headers)
            assert minted.status_code == 200, minted.text
            body = minted.json()
            room_name, host_identity = body["room"], body["identity"]
            identity = {"ana": host_identity, **{w: w for w in ("bruno", "eva", "fabio")}}

            # The host's join creates the room, so the token's dispatch brings the worker.
            # Nobody but the agent subscribes: the test server re-encodes audio per subscriber, and
            # the participants do not need to hear each other here.
            quiet = rtc.RoomOptions(auto_subscribe=False)
            host = rtc.Room()
            await host.connect(livekit_server.url, body["token"], quiet)
            members.append(Member("ana", host))
            for who in ("bruno", "eva", "fabio"):
                guest_meta = json.dumps({"roles": ["guest"], "name": NAMES[who]})
                room = rtc.Room()
                await room.connect(
                    livekit_server.url, livekit_server.token(who, room_name, name=who, metadata=guest_meta), quiet
                )
                members.append(Member(who, room))
            for m in members:
                m.listen()

            def agent_present() -> bool:
                return any(
                    p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT for p in host.remote_participants.values()
                )

            await until(agent_present, 60, "the coach agent in the room")
            # Every track is published first, then all play from the same moment: the tracks keep the
            # recordings' common clock (the agent anchors each track at its first frame).
            sources = await asyncio.gather(*(publish(m.room) for m in members))
            playing = asyncio.gather(
                *(play(s, live_recordings.tracks[m.who]) for s, m in zip(sources, members, strict=True))
            )
            await until(lambda: len(members[0].received) >= 2, 90 + LIVE_LENGTH, "the host's two feedback events")
            await playing
            meeting_id = await host.sid

            async def stored() -> bool:
                async with tenant_connection(db_pool, org_id) as c:
                    n = await c.fetchval("SELECT count(*) FROM feedback_events WHERE meeting_id = $1", meeting_id)
                return bool(n >= 2)

            # Stored after being sent (QueuedOutputs), so once stored every send has happened.
            await until(stored, 30, "the feedback events in the database")
            agent_identity = next(
                p.identity
                for p in host.remote_participants.values()
                if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
            )
            await asyncio.gather(*(m.room.disconnect() for m in members))

            async def session_ended() -> bool:
                async with tenant_connection(db_pool, org_id) as c:
                    s = await c.fetchval("SELECT status FROM sessions WHERE meeting_id = $1", meeting_id)
                return bool(s == "ENDED")

            await until(session_ended, 60, "the session to end")
        finally:
            livekit_server.set_webhook_urls([])

    host_got = members[0].received
    payloads = [p for _, p in host_got]
    assert {(p["type"], p["participantId"]) for p in payloads} == {("volume_baixo", "bruno"), ("overlap_fala", "fabio")}
    assert len(payloads) == 2 and all(sender == agent_identity for sender, _ in host_got)
    for p in payloads:
        assert set(p) == PAYLOAD_KEYS and set(p["window"]) == {"start", "end"}
        assert p["meetingId"] == meeting_id and p["id"].startswith("fb-")
        assert p["window"]["start"] < p["window"]["end"] <= p["ts"] and isinstance(p["ts"], int)
        assert {"rmsDbfs", "speechCoverage"} <= set(p["metadata"]) and p["tips"]
    low = next(p for p in payloads if p["type"] == "volume_baixo")
    assert low["message"].startswith("Bruno:") and low["metadata"]["rmsDbfs"] < -36.0
    overlap = next(p for p in payloads if p["type"] == "overlap_fala")
    assert overlap["metadata"]["otherParticipantId"] == "eva" and overlap["metadata"]["overlapSeconds"] >= 1.5
    assert overlap["message"].startswith("Fábio e Eva")
    # Nothing for the guests, and nothing about the host.
    assert [m.received for m in members[1:]] == [[], [], []]
    assert host_identity not in {p["participantId"] for p in payloads}

    async with tenant_connection(db_pool, org_id) as conn:
        rows = await conn.fetch(
            "SELECT payload, recipients, latency_ms FROM feedback_events WHERE meeting_id = $1", meeting_id
        )
    assert sorted((r["payload"] for r in rows), key=lambda p: p["id"]) == sorted(payloads, key=lambda p: p["id"])
    assert all(r["recipients"] == [host_identity] for r in rows)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, pool=db_pool)), base_url="http://t"
    ) as api_client:
        metrics = (await api_client.get(f"/feedback/metrics/{meeting_id}", headers=org.headers)).json()
        debug = (await api_client.get(f"/feedback/debug/{meeting_id}", headers=org.headers)).json()
    assert metrics["counts"] == {"overlap_fala": 1, "volume_baixo": 1}
    assert metrics["total"] == 2 and metrics["sent"] == 2
    assert metrics["latencyMs"]["mean"] == pytest.approx(np.mean([r["latency_ms"] for r in rows]), abs=0.1)
    assert {p["participantId"] for p in debug["participants"]} == set(identity.values())
    print(f"\nlive feedback latency (window end -> send completed), ms: {sorted(r['latency_ms'] for r in rows)}")

    # The organization records audio: every participant's track as WAV segments (seed 002's layout).
    folder = storage / "egress" / "audio" / meeting_id
    for who, ident in identity.items():
        files = sorted(folder.glob(f"*_{room_name}_{ident}_*.wav"))
        assert files, who
        with wave.open(str(files[0])) as w:
            assert w.getframerate() == SR and w.getnchannels() == 1 and w.getnframes() > 0
