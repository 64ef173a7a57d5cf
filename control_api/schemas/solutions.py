"""`/solutions/{name}`: which agent profile each of an organization's solutions runs (seed 003's "solution")."""

from __future__ import annotations

from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from control_api.schemas.formats import RequestBody, Timestamp
from core.naming import NAME_PATTERN

SOLUTION_NAME_PATTERN = NAME_PATTERN  # seed 003's names ("Ai-Helper" too); only what LiveKit cannot carry is refused

_SOLUTION: JsonDict = {
    "name": "AiHelper",
    "profile": "counter",
    "createdAt": "2025-03-14T09:26:53.589793+00:00",
    "updatedAt": "2025-03-14T09:26:53.589793+00:00",
}


class SolutionBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"profile": "counter"}]})

    profile: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class Solution(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SOLUTION]})

    name: str = Field(description="The `solution` of `POST /token` (seed 003), e.g. `AiHelper`.")
    profile: str = Field(description="The agent profile its rooms dispatch.")
    createdAt: Timestamp
    updatedAt: Timestamp

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Solution:
        return cls(name=row["name"], profile=row["profile"], createdAt=row["created_at"], updatedAt=row["updated_at"])


class SolutionList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_SOLUTION]}]})

    items: list[Solution]


class SolutionDeleted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "deleted"}]})

    status: Literal["deleted"]
