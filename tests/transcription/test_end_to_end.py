"""End to end through the LiveKit test server: `escuta worker` transcribes a live room.

The control API mints the token (its dispatch metadata chooses the transcription profile), the
worker is the real `escuta worker` subprocess, participants are real SDK clients, and the sessions
come from the test server's webhooks. What the test server cannot confirm is listed in
tests/livekit_sim/README.md ("What differs"); for this test in particular: media is relayed by
aiortc (so no latency or audio-quality claim is made here), and data packets carry the identities
the SDK put in them (an agent's on-behalf identity kept, as livekit-server does), so this proves
what Escuta sends, not LiveKit's own attribution logic.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from livekit import rtc

from control_api.app import create_app
from tests.accounts.helpers import put_solution, register, token_body
from tests.e2e import api_on_veth, escuta_worker, room_settings, speak, until, worker_env
from tests.livekit_sim.client import connect
from tests.livekit_sim.fixtures import LiveKitServer
from tests.transcription.speech import SCRIPT_B, SCRIPT_EN, recording, wer

pytestmark = pytest.mark.livekit


@dataclass
class Heard:
    sender: str
    text: str
    attributes: dict[str, str]


@dataclass
class Frontend:
    room: rtc.Room
    heard: list[Heard] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def listen(self) -> None:
        async def read(reader: rtc.TextStreamReader, sender: str) -> None:
            self.heard.append(Heard(sender, await reader.read_all(), dict(reader.info.attributes or {})))

        def handler(reader: rtc.TextStreamReader, sender: str) -> None:
            task = asyncio.ensure_future(read(reader, sender))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self.room.register_text_stream_handler("lk.transcription", handler)


async def test_worker_transcribes_every_participant_of_a_live_room(
    livekit_server: LiveKitServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    agent = f"escuta-e2e-{secrets.token_hex(3)}"
    settings = room_settings(livekit_server, database_url, agent)
    speaker_rec, guest_rec = recording(SCRIPT_EN[:3]), recording(SCRIPT_B)
    env = worker_env(database_url, agent, failed_audio_dir=tmp_path / "failed")
    async with (
        api_on_veth(livekit_server, settings, db_pool) as base,
        httpx.AsyncClient(base_url=base) as http,
        escuta_worker(livekit_server, tmp_path / "worker.log", agent, env),
    ):
        livekit_server.set_webhook_urls([f"{base}/livekit/webhook"])
        try:
            org = await register(http, "Org E2E")
            await put_solution(http, org, "Meet", "transcription")
            minted = await http.post("/token", json=token_body(org.org_id, "Meet", "ana"), headers=org.headers)
            assert minted.status_code == 200, minted.text
            body = minted.json()
            room_name, speaker_identity = body["room"], body["identity"]

            # The speaker's join creates the room, so the token's dispatch brings the worker.
            speaker = rtc.Room()
            await speaker.connect(livekit_server.url, body["token"])
            frontend = Frontend(await connect(livekit_server, "frontend", room_name))
            frontend.listen()
            speaker_track = await speak(speaker, speaker_rec.audio)

            # Attributed by the transcribed track, as LiveKit's frontend components do.
            def of(track: str) -> list[Heard]:
                return [h for h in frontend.heard if h.attributes.get("lk.transcribed_track_id") == track]

            await until(lambda: len(of(speaker_track)) >= 1, 90, "the first transcript")
            # A third participant joins mid-session and is heard too.
            guest = await connect(livekit_server, "guest", room_name)
            guest_track = await speak(guest, guest_rec.audio)
            await until(lambda: len(of(speaker_track)) >= len(speaker_rec.texts), 120, "the speaker's transcripts")
            await until(lambda: len(of(guest_track)) >= len(guest_rec.texts), 120, "the guest's transcripts")

            agents = [
                p.identity
                for p in frontend.room.remote_participants.values()
                if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
            ]
            assert len(agents) == 1
            for who, track, rec in ((speaker_identity, speaker_track, speaker_rec), ("guest", guest_track, guest_rec)):
                mine = of(track)
                assert len(mine) == len(rec.texts)
                for h in mine:
                    # The agent publishes on behalf of the speaker, as livekit-agents does: the
                    # frontend sees the speaker as the sender (livekit-server keeps an agent's
                    # sender identity; so does the test server).
                    assert h.sender == who
                    assert h.attributes["lk.transcription_final"] == "true"
                    assert h.attributes["lk.segment_id"].startswith("SG_")
                assert wer(rec.texts, [h.text for h in mine]) < 0.25
            meeting_id = await speaker.sid
            await asyncio.gather(guest.disconnect(), speaker.disconnect(), frontend.room.disconnect())

            async def stored() -> bool:
                async with db_pool.acquire() as c:
                    n = await c.fetchval("SELECT count(*) FROM transcripts WHERE meeting_id = $1", meeting_id)
                    s = await c.fetchrow("SELECT status, org_id FROM sessions WHERE meeting_id = $1", meeting_id)
                return bool(n == len(SCRIPT_EN[:3]) + len(SCRIPT_B) and s is not None and s["status"] == "ENDED")

            await until(stored, 60, "the session and its transcripts in the database")
        finally:
            livekit_server.set_webhook_urls([])

    async with db_pool.acquire() as c:
        session = await c.fetchrow("SELECT * FROM sessions WHERE meeting_id = $1", meeting_id)
        rows = await c.fetch("SELECT * FROM transcripts WHERE meeting_id = $1 ORDER BY start_s", meeting_id)
    assert session is not None and str(session["org_id"]) == org.org_id
    assert {r["participant_identity"] for r in rows} == {speaker_identity, "guest"}
    assert all(r["status"] == "ok" and str(r["org_id"]) == org.org_id and r["provider"] == "local" for r in rows)
    # The API serves it to the organization, as JSON and WebVTT.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, pool=db_pool)), base_url="http://t"
    ) as api_client:
        vtt = await api_client.get(f"/sessions/{meeting_id}/transcript?format=vtt", headers=org.headers)
    assert vtt.status_code == 200 and vtt.text.count(" --> ") == len(rows)
