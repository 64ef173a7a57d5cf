"""End to end through the LiveKit test server: a counter room with `escuta worker` running `counter`.

The counter device joins with the token `/token` mints for its `bk_` device key (the solution's
profile is `counter`, so the token's dispatch brings the worker); a customer joins the same room.
Both publish their channel of the recorded dialogue at real-time pace; the speech-to-text stub
answers with the dialogue's script. The recommendation events must reach the device's identity and
nobody else, and the clerk's feedback sent back by RPC must be stored. What the test server cannot
confirm (media relayed by aiortc, its own routing of `destination_identities`) is listed in
tests/livekit_sim/README.md; no latency claim is made from this test.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from livekit import rtc

from agents.counter.events import EVENT_FIELDS, FEEDBACK_RPC_METHOD, RECOMMENDATION_TOPIC
from tests.accounts.helpers import device_for_org, put_solution, register, token_body
from tests.counter.speech import ScriptedTranscripts, record_dialogue, recorded_dialogue
from tests.e2e import api_on_veth, escuta_worker, room_settings, speak, until, worker_env
from tests.livekit_sim.client import connect, on_text
from tests.livekit_sim.fixtures import LiveKitServer
from tests.stt_stubs import SttStubServer
from tests.stt_stubs.fixtures import stt_stub, stub_env  # noqa: F401  # the fixture

pytestmark = pytest.mark.livekit


def agent_of(room: rtc.Room) -> str | None:
    for p in room.remote_participants.values():
        if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            return p.identity
    return None


async def test_counter_room_events_reach_only_the_device_and_rpc_feedback_is_stored(
    livekit_server: LiveKitServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    stt_stub: SttStubServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    agent = f"escuta-counter-{secrets.token_hex(3)}"
    settings = room_settings(livekit_server, database_url, agent)
    # A longer lead: the agent subscribes to the tracks after they are published.
    recording = record_dialogue(recorded_dialogue().dialogue, lead=2.0)
    script = ScriptedTranscripts(recording.lines)
    stt_stub.transcript_for = script
    env = worker_env(database_url, agent, failed_audio_dir=tmp_path / "failed", extra=stub_env(stt_stub))
    async with (
        api_on_veth(livekit_server, settings, db_pool) as base,
        httpx.AsyncClient(base_url=base) as http,
        escuta_worker(livekit_server, tmp_path / "worker.log", agent, env),
    ):
        org = await register(http, "Drogaria Balcão")
        assert (await http.post("/catalog/import/sample", headers=org.headers)).status_code == 200
        await put_solution(http, org, "AiHelper", "counter")
        device = await device_for_org(http, org)
        minted = await http.post(
            "/token",
            json=token_body(org.org_id, "AiHelper", "Carla"),
            headers={"Authorization": f"Bearer {device['api_key']}"},
        )
        assert minted.status_code == 200, minted.text
        body = minted.json()
        room_name, device_identity = body["room"], body["identity"]

        # The device's join creates the room; the token's dispatch brings the worker.
        counter = rtc.Room()
        await counter.connect(livekit_server.url, body["token"])
        assert counter.local_participant.identity == device_identity
        customer = await connect(livekit_server, "cliente-balcao", room_name)
        to_device: list[tuple[str, str]] = []
        to_customer: list[tuple[str, str]] = []
        on_text(counter, RECOMMENDATION_TOPIC, lambda sender, text: to_device.append((sender, text)))
        on_text(customer, RECOMMENDATION_TOPIC, lambda sender, text: to_customer.append((sender, text)))
        await until(lambda: agent_of(counter) is not None, 60, "the agent to join")
        agent_identity = agent_of(counter)
        assert agent_identity is not None

        await asyncio.gather(speak(counter, recording.channels[1]), speak(customer, recording.channels[0]))
        try:
            await until(lambda: len(to_device) >= 2, 120, "two recommendation events on the device")
        except TimeoutError:
            heard = [(round(c.audio_seconds, 2), c.failed_with) for c in stt_stub.calls]
            raise AssertionError(f"events {to_device}; STT calls {heard}; lines used {script.used}") from None

        events = [json.loads(text) for _sender, text in to_device]
        assert all(sender == agent_identity for sender, _text in to_device)
        assert all(tuple(e) == EVENT_FIELDS and e["comando"] == "recomendar" for e in events)
        assert [e["produto"] for e in events] == ["Paracetamol 750 mg", "Soro fisiológico nasal spray 0.9%"]
        assert {e["atendente"] for e in events} == {"Carla"}  # the device token's name
        assert events[0]["transcricao_base"] == recording.of("cliente")[0].text

        # The clerk answers by RPC; a malformed answer is an RPC error and the agent keeps working.
        first, second = (e["id"] for e in events)
        with pytest.raises(rtc.RpcError, match="invalid feedback"):
            await counter.local_participant.perform_rpc(
                destination_identity=agent_identity, method=FEEDBACK_RPC_METHOD, payload="{not json"
            )
        with pytest.raises(rtc.RpcError, match="only the counter device"):
            await customer.local_participant.perform_rpc(
                destination_identity=agent_identity,
                method=FEEDBACK_RPC_METHOD,
                payload=json.dumps({"id": first, "feedback": "rejeitado"}),
            )
        answers = [
            json.loads(
                await counter.local_participant.perform_rpc(
                    destination_identity=agent_identity,
                    method=FEEDBACK_RPC_METHOD,
                    payload=json.dumps({"id": rec_id, "feedback": verdict}),
                )
            )
            for rec_id, verdict in ((first, "aceito"), (second, "rejeitado"))
        ]
        assert [(a["id"], a["accepted"], a["stored"]) for a in answers] == [(first, True, True), (second, False, True)]
        # Sent after both events and two RPC round trips: nothing on the topic ever reached the customer.
        assert to_customer == []

        await asyncio.gather(customer.disconnect(), counter.disconnect())

        async def interaction_closed() -> bool:
            ended = await db_pool.fetchval("SELECT count(*) FROM counter_interactions WHERE ended_at IS NOT NULL")
            return bool(ended == 1)

        await until(interaction_closed, 60, "the counter interaction to be closed")

    rows = await db_pool.fetch(
        """
        SELECT r.id, r.product_name, r.provider, r.latency_ms, f.accepted, f.source, i.device_id, i.org_id,
               i.stt_seconds, i.stt_provider
        FROM counter_recommendations r JOIN counter_interactions i ON i.id = r.interaction_id
        LEFT JOIN counter_feedback f ON f.recommendation_id = r.id ORDER BY r.created_at
        """
    )
    assert [(str(r["id"]), r["accepted"], r["source"]) for r in rows] == [(first, True, "rpc"), (second, False, "rpc")]
    assert all(r["device_id"] == uuid.UUID(device["balcao_id"]) and str(r["org_id"]) == org.org_id for r in rows)
    assert all(r["provider"] == "local" and r["latency_ms"] is not None for r in rows)
    assert rows[0]["stt_provider"] == "openai_compatible" and rows[0]["stt_seconds"] > 0
    assert sorted(script.used) == list(range(len(recording.lines))), "every line was heard once"
