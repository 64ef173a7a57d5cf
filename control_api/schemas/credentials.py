"""`/credentials/{provider}`: an organization's own provider keys (seed 000). No answer ever holds a secret."""

from __future__ import annotations

from typing import Literal, get_args

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from control_api.schemas.formats import RequestBody, Timestamp
from core.settings import PROVIDERS

Provider = Literal["elevenlabs", "openai", "xai", "assemblyai", "hume", "liveavatar", "twitch"]
assert get_args(Provider) == PROVIDERS, "the documented providers are the ones the settings know"

_CREDENTIAL: JsonDict = {
    "provider": "openai",
    "hint": "sk-…9xQz",
    "createdAt": "2025-03-14T09:26:53.589793+00:00",
    "updatedAt": "2025-03-14T09:26:53.589793+00:00",
}


class CredentialBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"secret": "sk-proj-0123456789abcdef9xQz"}]})

    # Twitch needs a client id and secret: store them as one JSON string, e.g. {"client_id":..,"secret":..}.
    secret: str = Field(min_length=1, max_length=8192)


class Credential(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CREDENTIAL]})

    provider: Provider
    hint: str = Field(description="Enough of the key to recognise it (first 3 and last 4 characters at most).")
    createdAt: Timestamp
    updatedAt: Timestamp

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Credential:
        return cls(provider=row["provider"], hint=row["hint"], createdAt=row["created_at"], updatedAt=row["updated_at"])


class CredentialList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_CREDENTIAL]}]})

    items: list[Credential]


class CredentialDeleted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "deleted"}]})

    status: Literal["deleted"]
