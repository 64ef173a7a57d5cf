"""Seed 001's wire contract: the recommendation event pushed to the counter, and the clerk's feedback.

The event keeps seed 001's fields exactly (``comando``, ``produto``, ``explicacao``,
``transcricao_base``, ``atendente``) and adds ``id`` so the clerk can answer about it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Text-stream topic the device reads events on, and the RPC method it answers through (core/counter/wire.py:
# the API's `/ws` bridge relays the same names).
from core.counter.wire import EVENT_FIELDS, FEEDBACK_RPC_METHOD, FEEDBACK_TOPIC, RECOMMENDATION_TOPIC

__all__ = ["EVENT_FIELDS", "FEEDBACK_RPC_METHOD", "FEEDBACK_TOPIC", "RECOMMENDATION_TOPIC"]


class RecommendationEvent(TypedDict):
    id: str
    comando: Literal["recomendar"]
    produto: str
    explicacao: str
    transcricao_base: str
    atendente: str


def build_recommendation_event(
    *, produto: str, explicacao: str, transcricao_base: str, atendente: str, id: uuid.UUID | str | None = None
) -> RecommendationEvent:
    """The event exactly as seed 001 shows it, plus ``id``."""
    return {
        "id": str(id or uuid.uuid4()),
        "comando": "recomendar",
        "produto": produto,
        "explicacao": explicacao,
        "transcricao_base": transcricao_base,
        "atendente": atendente,
    }


def encode_event(event: RecommendationEvent) -> str:
    return json.dumps(event, ensure_ascii=False)


_ACCEPTED = {"aceito": True, "aceita": True, "accepted": True, "sim": True, "rejeitado": False, "rejeitada": False,
             "rejected": False, "recusado": False, "nao": False, "não": False}  # fmt: skip


class Feedback(BaseModel):
    """The clerk's answer: ``{"id": "<event id>", "feedback": "aceito" | "rejeitado"}``.

    ``accepted``/``aceito`` booleans and English words are accepted too, so simple clients can send
    ``{"id": ..., "aceito": true}``.
    """

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    accepted: bool = Field(validation_alias="feedback")

    @field_validator("accepted", mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().lower()
            if key not in _ACCEPTED:
                raise ValueError("expected aceito or rejeitado")
            return _ACCEPTED[key]
        return value


def parse_feedback(payload: str | bytes | dict[str, Any]) -> Feedback:
    """Parse an RPC payload or text message; raises ``ValueError`` (pydantic's included) when invalid."""
    data = json.loads(payload) if isinstance(payload, str | bytes) else dict(payload)
    if not isinstance(data, dict):
        raise ValueError("feedback must be a JSON object")
    if "feedback" not in data:
        for key in ("aceito", "accepted", "resultado", "status"):
            if key in data:
                data["feedback"] = data[key]
                break
    return Feedback.model_validate(data)
