"""Seed 001's `/ws` end to end through the LiveKit test server: a Balto device as its manual describes it.

The client is a real WebSocket client (aiohttp) that sends `{"api_key": "bk_..."}` and then streams
espeak-ng Portuguese speech, encoded at test time as a live WebM/Opus stream (and in the second test as a
streaming WAV), in 250 ms chunks at real time. The API bridges the device into its organization's counter
room (`balcao`, made by `/cadastro/cliente`); the token's dispatch brings `escuta worker` with the counter
profile; the speech-to-text stub answers the Portuguese text. The recommendation comes back on the socket
with seed 001's fields, is stored against the device, and the clerk's feedback sent on the socket is stored.
A reconnecting device resumes the same room and participant. What only a real LiveKit server can confirm
is in docs/compatibility.md.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
import pytest
from openpyxl import load_workbook

from core.counter.wire import SEED_EVENT_FIELDS
from tests.accounts.helpers import register_device
from tests.compat.balto import Device, LiveWav, LiveWebm, silence, speech
from tests.conftest import TEST_ADMIN_TOKEN
from tests.e2e import api_on_veth, escuta_worker, room_settings, until, worker_env
from tests.livekit_sim.fixtures import LiveKitServer
from tests.stt_stubs import SttStubServer
from tests.stt_stubs.fixtures import stt_stub, stub_env  # noqa: F401  # the fixture

pytestmark = pytest.mark.livekit

HEADACHE = "Estou com dor de cabeça desde cedo"
NOSE = "Meu nariz está entupido e escorrendo"
ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


class Answers:
    """The STT stub's script: the text of the utterance the device is saying now."""

    def __init__(self) -> None:
        self.now = HEADACHE
        self.heard: list[str] = []

    def __call__(self, provider: str, seconds: float) -> str:
        self.heard.append(self.now)
        return self.now


class Pharmacy:
    """A client made the seed's way, with the sample catalog, a device, and the API + worker running."""

    def __init__(self, base: str, http: httpx.AsyncClient, created: dict[str, Any], device: dict[str, Any]) -> None:
        self.base, self.http, self.created, self.device = base, http, created, device

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"

    @property
    def room(self) -> str:
        return f"balcao-{self.created['client_id']}-{self.device['balcao_id']}"


@pytest.fixture
async def pharmacy(
    livekit_server: LiveKitServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    stt_stub: SttStubServer,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[tuple[Pharmacy, Answers]]:
    agent = f"escuta-balto-{secrets.token_hex(3)}"
    settings = room_settings(livekit_server, database_url, agent, counter_ws_resume_grace_seconds=20.0)
    answers = Answers()
    stt_stub.transcript_for = answers
    env = worker_env(database_url, agent, failed_audio_dir=tmp_path / "failed", extra=stub_env(stt_stub))
    async with (
        api_on_veth(livekit_server, settings, db_pool) as base,
        httpx.AsyncClient(base_url=base) as http,
        escuta_worker(livekit_server, tmp_path / "worker.log", agent, env),
    ):
        r = await http.post(
            "/cadastro/cliente",
            json={"email": "contato@redepharma.com", "razao_social": "Rede Pharma LTDA", "telefone": "11999998888"},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        created = r.json()
        # The platform admin acts for the new client (no user yet): its catalog.
        r = await http.post("/catalog/import/sample", params={"orgId": created["organization_id"]}, headers=ADMIN)
        assert r.status_code == 200, r.text
        device = await register_device(http, created["codigo"])
        yield Pharmacy(base, http, created, device), answers


async def agent_in_room(server: LiveKitServer, room: str) -> bool:
    state = await asyncio.to_thread(server.state)
    participants = state["rooms"].get(room, {}).get("participants", [])
    return len(participants) >= 2  # the device's bridge and the agent


async def say(
    dev: Device, encoder: LiveWebm | LiveWav, text: str, server: LiveKitServer, room: str, *, wait_agent: bool
) -> float:
    """Silence until the agent is in the room (a device streams all the time), then ``text`` and a pause.
    Returns when the utterance ended as the device heard it (perf_counter)."""
    t = await dev.play(encoder, silence(1.0))
    if wait_agent:
        for _ in range(240):
            if await agent_in_room(server, room):
                break
            t = await dev.play(encoder, silence(0.5), at=t)
        else:
            raise AssertionError("the agent never joined the bridged room")
        t = await dev.play(encoder, silence(1.5), at=t)  # its subscription to the device's track
    end = await dev.play(encoder, speech(text), at=t)
    await dev.play(encoder, silence(2.0), at=end)
    return end


async def test_webm_opus_device_gets_recommendation_and_feedback_is_stored_then_resumes(
    pharmacy: tuple[Pharmacy, Answers], livekit_server: LiveKitServer, db_pool: asyncpg.Pool
) -> None:
    ph, answers = pharmacy
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(ph.ws_url)
        dev = Device(ws)
        dev.start()
        await ws.send_str(json.dumps({"api_key": ph.device["api_key"], "atendente": "Carla"}))
        enc = LiveWebm()
        await say(dev, enc, HEADACHE, livekit_server, ph.room, wait_agent=True)
        await until(lambda: bool(dev.recommendations()), 60, f"a recommendation on the socket (STT {answers.heard})")
        event = dev.recommendations()[0]
        # Seed 001's fields, exactly named; Escuta adds `id` (extra fields allowed, none removed).
        assert set(SEED_EVENT_FIELDS) <= set(event) and event["comando"] == "recomendar"
        assert event["produto"] == "Paracetamol 750 mg"
        assert event["transcricao_base"] == HEADACHE and event["atendente"] == "Carla"
        assert event["explicacao"]

        # The clerk's answer on the socket (Escuta's addition), stored like a room device's RPC.
        await ws.send_str(json.dumps({"comando": "feedback", "id": event["id"], "feedback": "aceito"}))
        await until(lambda: any(f.get("comando") == "feedback" for _t, f in dev.frames), 30, "the feedback answer")
        answer = next(f for _t, f in dev.frames if f.get("comando") == "feedback")
        assert (answer["id"], answer["accepted"], answer["stored"]) == (event["id"], True, True)
        await ws.send_str("not json")
        await until(lambda: any(f.get("comando") == "erro" for _t, f in dev.frames), 10, "an error frame")
        assert not ws.closed

        # The device drops and comes back within the grace period: the same room, the same participant.
        await enc_close(ws, enc)
        await ws.close()
        ws2 = await session.ws_connect(ph.ws_url)
        dev2 = Device(ws2)
        dev2.start()
        await ws2.send_str(json.dumps({"api_key": ph.device["api_key"], "atendente": "Carla"}))
        answers.now = NOSE
        await say(dev2, LiveWebm(), NOSE, livekit_server, ph.room, wait_agent=False)
        await until(lambda: bool(dev2.recommendations()), 60, f"a recommendation after resuming (STT {answers.heard})")
        # The same conversation goes on (the assistant's context still has the first utterance).
        assert dev2.recommendations()[0]["transcricao_base"].endswith(NOSE)
        state = await asyncio.to_thread(livekit_server.state)
        assert ph.room in state["rooms"] and len([r for r in state["rooms"] if r.startswith("balcao-")]) == 1
        await ws2.close()

    rows = await db_pool.fetch(
        """
        SELECT r.id, r.product_name, i.device_id, i.org_id, i.room_name, f.accepted
        FROM counter_recommendations r JOIN counter_interactions i ON i.id = r.interaction_id
        LEFT JOIN counter_feedback f ON f.recommendation_id = r.id ORDER BY r.created_at
        """
    )
    assert {str(r["device_id"]) for r in rows} == {ph.device["balcao_id"]}
    assert {str(r["org_id"]) for r in rows} == {ph.created["organization_id"]}
    assert {r["room_name"] for r in rows} == {ph.room}, "one session: the reconnect resumed the same room"
    assert [r["accepted"] for r in rows if str(r["id"]) == event["id"]] == [True]


async def enc_close(ws: aiohttp.ClientWebSocketResponse, enc: LiveWebm) -> None:
    tail = enc.close()
    if tail:
        await ws.send_bytes(tail)


async def test_wav_device_gets_recommendation(
    pharmacy: tuple[Pharmacy, Answers], livekit_server: LiveKitServer, db_pool: asyncpg.Pool
) -> None:
    ph, _answers = pharmacy
    async with aiohttp.ClientSession() as session, session.ws_connect(ph.ws_url) as ws:
        dev = Device(ws)
        dev.start()
        await ws.send_str(json.dumps({"api_key": ph.device["api_key"]}))
        await say(dev, LiveWav(), HEADACHE, livekit_server, ph.room, wait_agent=True)
        await until(lambda: bool(dev.recommendations()), 60, "a recommendation on the socket")
        event = dev.recommendations()[0]
        assert set(SEED_EVENT_FIELDS) <= set(event) and event["produto"] == "Paracetamol 750 mg"
        assert event["atendente"] == "Balcão Entrada 01"  # no clerk named: the device's name
        # Like any counter session: in the organization's Excel export (seed 001's report), by device.
        await ws.close()
        org = {"orgId": ph.created["organization_id"]}

        async def exported() -> bool:
            r = await ph.http.get("/api/export/xlsx", params=org, headers=ADMIN)
            wb = load_workbook(io.BytesIO(r.content), read_only=True)
            cells = {str(c) for sheet in wb.worksheets for row in sheet.iter_rows(values_only=True) for c in row}
            return r.status_code == 200 and "Paracetamol 750 mg" in cells and "Balcão Entrada 01" in cells

        await until(exported, 30, "the session in the Excel export")
    stored = await db_pool.fetchval(
        "SELECT count(*) FROM counter_recommendations WHERE id = $1", uuid.UUID(event["id"])
    )
    assert stored == 1
