"""`/solutions/{name}`: which agent profile each of an organization's solutions runs (seed 003's "solution")."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from control_api.schemas.formats import RequestBody, Timestamp
from control_api.schemas.speech import SpeechToTextStatus
from core.language import TAG_PATTERN
from core.naming import NAME_PATTERN
from core.profiles import ProfileName

SOLUTION_NAME_PATTERN = NAME_PATTERN  # seed 003's names ("Ai-Helper" too); only what LiveKit cannot carry is refused

_SOLUTION: JsonDict = {
    "name": "AiHelper",
    "profile": "counter",
    "language": "pt-BR",
    "createdAt": "2025-03-14T09:26:53.589793+00:00",
    "updatedAt": "2025-03-14T09:26:53.589793+00:00",
    "speechToText": {
        "language": "pt-BR",
        "supported": True,
        "providers": [{"name": "elevenlabs", "model": "scribe_v1", "supported": True, "reason": None}],
        "reason": None,
    },
}


class SolutionBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"profile": "counter"}]})

    profile: ProfileName = Field(description="The agent profile its rooms dispatch (one the worker knows).")
    language: str | None = Field(
        None,
        max_length=10,
        pattern=TAG_PATTERN,
        description="The language the solution's rooms speak (`pt-BR`, `en`); null inherits the organization's; "
        "omitted keeps the stored one.",
    )


class Solution(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SOLUTION]})

    name: str = Field(description="The `solution` of `POST /token` (seed 003), e.g. `AiHelper`.")
    profile: str = Field(description="The agent profile its rooms dispatch.")
    language: str | None = Field(description="Its own language setting (null: the organization's).")
    createdAt: Timestamp
    updatedAt: Timestamp
    speechToText: SpeechToTextStatus = Field(description="Whether its rooms' effective language can be transcribed.")

    @classmethod
    def from_row(cls, row: asyncpg.Record, speech: dict[str, Any]) -> Solution:
        return cls(
            name=row["name"],
            profile=row["profile"],
            language=row["language"],
            createdAt=row["created_at"],
            updatedAt=row["updated_at"],
            speechToText=SpeechToTextStatus.model_validate(speech),
        )


class SolutionList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_SOLUTION]}]})

    items: list[Solution]


class SolutionDeleted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "deleted"}]})

    status: Literal["deleted"]
