"""Seed 001's event contract and the clerk's feedback payload."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from agents.counter.assistant import CounterAssistant
from agents.counter.events import build_recommendation_event, encode_event, parse_feedback
from tests.counter.helpers import say

SEED_FIELDS = {"comando", "produto", "explicacao", "transcricao_base", "atendente"}


def test_builder_has_exactly_the_seed_fields_plus_id() -> None:
    event = build_recommendation_event(
        produto="Paracetamol 750 mg", explicacao="Para dor de cabeça.", transcricao_base="tô com dor de cabeça",
        atendente="Carla",
    )  # fmt: skip
    assert set(event) == SEED_FIELDS | {"id"}
    assert event["comando"] == "recomendar"
    uuid.UUID(event["id"])
    decoded = json.loads(encode_event(event))
    assert decoded == event and "ç" in encode_event(event), "Portuguese stays readable on the wire"


async def test_assistant_events_follow_the_contract(assistant: CounterAssistant) -> None:
    out = await say(
        assistant,
        ("atendente", "Boa tarde, em que posso ajudar?"),
        ("cliente", "Tô com azia desde o almoço, uma queimação no estômago"),
    )
    assert len(out) == 1
    event = out[0].event
    assert set(event) == SEED_FIELDS | {"id"}
    assert event["atendente"] == "Carla"
    assert "azia" in event["transcricao_base"]
    assert event["produto"] == out[0].recommendation.product.name and event["explicacao"]


async def test_atendente_defaults_to_the_clerks_identity(assistant: CounterAssistant) -> None:
    assistant.atendente = None
    out = await say(assistant, ("atendente", "Pois não?"), ("cliente", "Tô com tosse seca"))
    assert out[0].event["atendente"] == "carla-balcao-1"


@pytest.mark.parametrize(
    ("payload", "accepted"),
    [
        ({"feedback": "aceito"}, True),
        ({"feedback": "rejeitado"}, False),
        ({"feedback": "accepted"}, True),
        ({"aceito": True}, True),
        ({"accepted": False}, False),
    ],
)
def test_feedback_forms(payload: dict[str, object], accepted: bool) -> None:
    rec_id = str(uuid.uuid4())
    fb = parse_feedback(json.dumps({"id": rec_id, **payload}))
    assert fb.id == uuid.UUID(rec_id) and fb.accepted is accepted


@pytest.mark.parametrize(
    "payload",
    [
        '{"id": "not-a-uuid", "feedback": "aceito"}',
        '{"feedback": "aceito"}',
        '{"id": "%s", "feedback": "talvez"}',
        "[1]",
    ],
)
def test_invalid_feedback_is_refused(payload: str) -> None:
    with pytest.raises((ValueError, ValidationError)):
        parse_feedback(payload.replace("%s", str(uuid.uuid4())))
