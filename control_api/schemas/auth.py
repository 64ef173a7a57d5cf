"""`/auth/*` (seed 002): sign-up, log-in, token rotation and the caller's profile."""

from __future__ import annotations

import uuid
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from control_api.schemas.common import EMAIL_PATTERN
from control_api.schemas.formats import RequestBody

Role = Literal["owner", "admin", "member"]

_ORG_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
_USER_ID = "0b5d7f36-8a1f-4c5e-9a52-4f0d3c1e2b7a"
_ACCESS = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwYjVkN2YzNiJ9.c2lnbmF0dXJl"
_REFRESH = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiI5ZjFlIn0.c2lnbmF0dXJl"


class RegisterBody(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ana@redepharma.com.br",
                    "password": "uma senha longa",
                    "name": "Ana Souza",
                    "organizationName": "Rede Pharma LTDA",
                }
            ]
        }
    )

    email: str = Field(pattern=EMAIL_PATTERN, max_length=320)
    password: str = Field(min_length=8, max_length=256)
    name: str | None = Field(None, max_length=200)
    organizationName: str = Field(min_length=1, max_length=200)


class LoginBody(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "ana@redepharma.com.br", "password": "uma senha longa"}]}
    )

    email: str = Field(pattern=EMAIL_PATTERN, max_length=320)
    password: str = Field(min_length=1, max_length=256)
    organizationId: uuid.UUID | None = Field(
        None, description="Which of the account's organizations to act in (default: the oldest membership)."
    )


class RefreshBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"refreshToken": _REFRESH}]})

    refreshToken: str = Field(min_length=1, max_length=4096)


class TokenPair(BaseModel):
    """An access token for `Authorization: Bearer`, and the refresh token that rotates it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"accessToken": _ACCESS, "refreshToken": _REFRESH, "tokenType": "Bearer", "expiresIn": 900}]
        }
    )

    accessToken: str
    refreshToken: str = Field(description="Single use: `POST /auth/refresh` answers a new pair for it.")
    tokenType: Literal["Bearer"]
    expiresIn: int = Field(description="Seconds until the access token expires.")


class UserRef(BaseModel):
    id: uuid.UUID
    email: str
    name: str | None


class OrgRef(BaseModel):
    id: uuid.UUID
    name: str

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> OrgRef:
        return cls(id=row["id"], name=row["name"])


class RegistrationAccepted(BaseModel):
    """The same answer for every e-mail (issue 14: sign-up must not reveal who has an account). A new
    e-mail got its organization and owner account; an e-mail that already had an account got nothing.
    Either way the next step is `POST /auth/login`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "accepted",
                    "email": "ana@redepharma.com.br",
                    "organizationName": "Rede Pharma LTDA",
                    "next": "POST /auth/login",
                }
            ]
        }
    )

    status: Literal["accepted"]
    email: str
    organizationName: str
    next: Literal["POST /auth/login"]


class Me(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _USER_ID,
                    "email": "ana@redepharma.com.br",
                    "name": "Ana Souza",
                    "platformAdmin": False,
                    "role": "owner",
                    "organization": {"id": _ORG_ID, "name": "Rede Pharma LTDA"},
                }
            ]
        }
    )

    id: uuid.UUID
    email: str
    name: str | None
    platformAdmin: bool
    role: Role | None = Field(description="The role in `organization`; null for a platform admin without one.")
    organization: OrgRef | None

    @classmethod
    def from_rows(cls, user: asyncpg.Record, role: str | None, org: asyncpg.Record | None) -> Me:
        return cls(
            id=user["id"],
            email=user["email"],
            name=user["name"],
            platformAdmin=user["is_platform_admin"],
            role=role,  # type: ignore[arg-type]  # a membership role, checked by the model
            organization=OrgRef.from_row(org) if org else None,
        )


class LoggedOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "logged_out"}]})

    status: Literal["logged_out"]
