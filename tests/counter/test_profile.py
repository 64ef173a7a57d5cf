"""The ``counter`` profile: roles from tokens, events to the device only, the clerk's feedback stored.

The profile is driven in process with transcript rows (what the transcription stage hands it) and a
publisher that records what would reach the room; PostgreSQL and the export route are real. The live
room path (RPC through the room glue, the worker) is in test_end_to_end.py.
"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook

from agents.counter.events import EVENT_FIELDS, FEEDBACK_RPC_METHOD, FEEDBACK_TOPIC, RECOMMENDATION_TOPIC
from agents.counter.profile import BalcaoProfile, CounterProfile, device_of
from agents.profiles import ProfileContext, SessionInfo, Speaker, get_profile
from agents.profiles.base import ProfileRpcError
from db.transcription import TranscriptRow
from tests.accounts.helpers import device_for_org, register
from tests.conftest import make_settings
from tests.counter.openai_stub import ChatStub


@dataclass
class Sent:
    topic: str
    text: str
    to: list[str] | None


@dataclass
class CapturePublisher:
    sent: list[Sent] = field(default_factory=list)

    async def publish_transcript(self, speaker: Speaker, segment_id: str, text: str) -> None:
        return None

    async def send_text(
        self, topic: str, text: str, *, to: list[str] | None = None, attributes: dict[str, str] | None = None
    ) -> None:
        self.sent.append(Sent(topic, text, to))

    def record(self, kind: str, data: dict[str, Any]) -> None:
        return None


def device_speaker(org_id: str, device_id: str, name: str = "Carla") -> Speaker:
    """A participant as `/token` with a device key makes it (control_api/routes/token.py)."""
    return Speaker(
        f"AiHelper-{org_id}-{name}",
        "TR_device",
        name=name,
        metadata=json.dumps({"roles": ["device"], "name": name, "deviceId": device_id}),
        attributes={
            "escuta.org_id": org_id,
            "escuta.solution": "AiHelper",
            "escuta.principal": "device",
            "escuta.role": "device",
            "escuta.device_id": device_id,
        },
    )


def customer_speaker(org_id: str) -> Speaker:
    attributes = {"escuta.org_id": org_id, "escuta.role": "guest", "escuta.principal": "publishable"}
    return Speaker(f"AiHelper-{org_id}-cliente", "TR_customer", name="cliente", attributes=attributes)


class Room:
    """Transcript rows in session order, as the transcription stage hands them to `on_transcript`."""

    def __init__(self, profile: CounterProfile, meeting_id: str) -> None:
        self.profile = profile
        self.meeting_id = meeting_id
        self.t = 0.0

    async def say(self, speaker: Speaker, text: str) -> None:
        row = TranscriptRow(
            meeting_id=self.meeting_id,
            segment_id="SG_" + uuid.uuid4().hex[:12],
            participant_identity=speaker.identity,
            start_s=self.t,
            end_s=self.t + 2.0,
            status="ok",
            text=text,
            provider="openai",
            provider_ms=5.0,
        )
        self.t += 3.0
        await self.profile.on_transcript(speaker, row)


async def started(
    org_id: uuid.UUID | None, pool: asyncpg.Pool | None, publisher: CapturePublisher, **overrides: Any
) -> CounterProfile:
    session = SessionInfo(
        meeting_id=f"RM_{uuid.uuid4().hex[:10]}",
        room_name="AiHelper-room",
        org_id=org_id,
        solution="AiHelper",
        clock_origin=datetime.now(UTC),
    )
    # An HTTP provider is only built here, never called: the rows below stand for its answers.
    settings = make_settings(stt_providers=["openai_compatible"], **overrides)
    profile = CounterProfile()
    await profile.start(ProfileContext(session, settings, publisher, pool, None))
    return profile


async def test_events_reach_only_the_device_with_the_seed_fields_and_feedback_is_stored_and_exported(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    org = await register(client, "Farmácia Centro")
    assert (await client.post("/catalog/import/sample", headers=org.headers)).status_code == 200
    device_id = (await device_for_org(client, org))["balcao_id"]
    device, customer = device_speaker(org.org_id, device_id), customer_speaker(org.org_id)
    publisher = CapturePublisher()
    profile = await started(uuid.UUID(org.org_id), db_pool, publisher)
    profile.participant(device)  # its microphone track is subscribed: the device is known
    profile.participant(customer)
    room = Room(profile, profile.ctx.session.meeting_id if profile.ctx else "")

    await room.say(device, "Boa tarde, em que posso ajudar?")
    await room.say(customer, "Tô com uma dor de cabeça desde cedo.")
    await room.say(device, "Tem febre junto?")
    await room.say(customer, "Não, é só a cabeça mesmo.")
    # The clerk naming a symptom creates no need: only the customer's words do.
    await room.say(device, "Muita gente hoje com tosse, né?")
    await room.say(customer, "E meu nariz tá entupido, mas eu tomo remédio de pressão.")

    assert [s.topic for s in publisher.sent] == [RECOMMENDATION_TOPIC, RECOMMENDATION_TOPIC]
    assert all(s.to == [device.identity] for s in publisher.sent), "only the device's identity, never customers"
    events = [json.loads(s.text) for s in publisher.sent]
    for e in events:
        assert tuple(e) == EVENT_FIELDS and e["comando"] == "recomendar" and e["atendente"] == "Carla"
    assert [e["produto"] for e in events] == ["Paracetamol 750 mg", "Soro fisiológico nasal spray 0.9%"]
    assert events[0]["transcricao_base"] == "Tô com uma dor de cabeça desde cedo."

    # The clerk answers: by RPC and by text message; bad requests are refused, never crash.
    first, second = (e["id"] for e in events)
    rpc = profile.rpc_methods()[FEEDBACK_RPC_METHOD]
    text = profile.text_topics()[FEEDBACK_TOPIC]
    answer = json.loads(await rpc(device, json.dumps({"id": first, "feedback": "aceito"})))
    assert answer == {"id": first, "accepted": True, "stored": True}
    await text(device, json.dumps({"id": second, "feedback": "rejeitado"}))
    for payload in ("not json", "[]", json.dumps({"id": first}), json.dumps({"id": "x", "feedback": "aceito"})):
        with pytest.raises(ProfileRpcError, match="invalid feedback"):
            await rpc(device, payload)
    with pytest.raises(ProfileRpcError, match="unknown recommendation"):
        await rpc(device, json.dumps({"id": str(uuid.uuid4()), "feedback": "aceito"}))
    with pytest.raises(ProfileRpcError, match="only the counter device"):
        await rpc(customer, json.dumps({"id": first, "feedback": "rejeitado"}))
    await profile.aclose()

    summary = profile.summary()
    assert (summary["recommendations"], summary["delivered"], summary["feedback"]) == (2, 2, 2)
    assert summary["feedback_refused"] == 6 and summary["counter_store_errors"] == 0
    rows = await db_pool.fetch(
        """
        SELECT r.id, r.product_name, r.atendente, f.accepted, f.source, i.device_id, i.stt_seconds, i.ended_at
        FROM counter_recommendations r JOIN counter_interactions i ON i.id = r.interaction_id
        LEFT JOIN counter_feedback f ON f.recommendation_id = r.id ORDER BY r.created_at
        """
    )
    assert [(str(r["id"]), r["accepted"], r["source"]) for r in rows] == [(first, True, "rpc"), (second, False, "text")]
    assert all(str(r["device_id"]) == device_id and r["atendente"] == "Carla" for r in rows)
    assert rows[0]["stt_seconds"] == 12.0 and rows[0]["ended_at"] is not None

    r = await client.get("/api/export/xlsx", headers=org.headers)
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content), read_only=True)["Interações"]
    exported = [tuple(row) for row in sheet.iter_rows(values_only=True)][1:]
    assert sorted((row[3], row[6]) for row in exported) == [
        ("Paracetamol 750 mg", "aceito"),
        ("Soro fisiológico nasal spray 0.9%", "rejeitado"),
    ]


async def test_without_a_device_nothing_is_sent_to_anyone() -> None:
    org = str(uuid.uuid4())
    publisher = CapturePublisher()
    profile = await started(None, None, publisher)  # no database: the sample catalog, nothing stored
    customer = customer_speaker(org)
    profile.participant(customer)
    await Room(profile, "RM_x").say(customer, "Tô com uma dor de cabeça desde cedo.")
    assert publisher.sent == []  # never `to=None`, which would broadcast to the customers
    assert (profile.summary()["recommendations"], profile.summary()["undelivered"]) == (1, 1)
    await profile.aclose()


def test_device_roles_come_from_the_token_only() -> None:
    org, dev = str(uuid.uuid4()), str(uuid.uuid4())
    assert device_of(device_speaker(org, dev)) == uuid.UUID(dev)
    only_metadata = Speaker("x", None, metadata=json.dumps({"roles": ["device"], "deviceId": dev}))
    assert device_of(only_metadata) == uuid.UUID(dev)
    assert device_of(customer_speaker(org)) is None
    assert device_of(Speaker("balcao-device", None, name="device")) is None  # a name proves nothing
    assert device_of(Speaker("x", None, metadata="{not json", attributes={"escuta.role": "device"})) is None
    assert get_profile("counter") is CounterProfile and get_profile("balcao") is BalcaoProfile


async def test_a_device_token_of_another_organization_is_a_customer() -> None:
    org, other = uuid.uuid4(), str(uuid.uuid4())
    publisher = CapturePublisher()
    profile = await started(org, None, publisher)
    stranger = device_speaker(other, str(uuid.uuid4()))
    own = device_speaker(str(org), str(uuid.uuid4()), name="Bruno")
    assert not profile.is_clerk(stranger) and profile.is_clerk(own)
    room = Room(profile, "RM_y")
    await room.say(stranger, "Tô com uma dor de cabeça desde cedo.")  # a customer's words: a need
    assert [s.to for s in publisher.sent] == [[own.identity]]
    assert json.loads(publisher.sent[0].text)["atendente"] == "Bruno"
    await profile.aclose()


async def test_the_organizations_llm_choice_is_used_live(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    org = await register(client, "Farmácia com LLM")
    assert (await client.post("/catalog/import/sample", headers=org.headers)).status_code == 200
    r = await client.put("/credentials/xai", json={"secret": "xai-org-key-456"}, headers=org.headers)
    assert r.status_code == 200
    device = device_speaker(org.org_id, (await device_for_org(client, org))["balcao_id"])
    stub = ChatStub()
    await stub.start()
    try:
        publisher = CapturePublisher()
        profile = await started(
            uuid.UUID(org.org_id),
            db_pool,
            publisher,
            counter_llm_by_org={org.org_id: "xai:grok-4-1-fast-non-reasoning"},
            counter_llm_xai_base_url=stub.base_url,
        )
        profile.participant(device)
        await Room(profile, "RM_llm").say(customer_speaker(org.org_id), "Tô com dor de garganta")
        await profile.aclose()
    finally:
        await stub.stop()
    assert stub.auth_headers == ["Bearer xai-org-key-456"]
    assert [s.to for s in publisher.sent] == [[device.identity]]
    stored = await db_pool.fetchrow("SELECT provider, model FROM counter_recommendations")
    assert stored is not None and (stored["provider"], stored["model"]) == ("xai", "grok-4-1-fast-non-reasoning")
