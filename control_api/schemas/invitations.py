"""Invitations to an organization (issue 14): `POST /members`, `/invitations`, and the owner invitation
`/cadastro/cliente` answers to the platform admin."""

from __future__ import annotations

import uuid
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from control_api.schemas.auth import OrgRef, Role, TokenPair
from control_api.schemas.formats import RequestBody, Timestamp

_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
_AT = "2025-03-21T09:26:53.589793+00:00"
_TOKEN = "inv_Wm9xZ0h2c1F4d1R5b3BhQmN1ZGVmZ2hpamtsbW5vcHE"


class InvitationCreated(BaseModel):
    """A pending invitation and its one-time token: shown here once, stored only as a digest."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "email": "bruno@redepharma.com.br",
                    "role": "member",
                    "status": "pending",
                    "token": _TOKEN,
                    "link": "/invite#" + _TOKEN,
                    "expiresAt": _AT,
                    "sent": False,
                }
            ]
        }
    )

    id: uuid.UUID = Field(description="The invitation's id (`DELETE /invitations/{id}` revokes it).")
    email: str
    role: Role
    status: Literal["pending"]
    token: str = Field(description="One-time secret for `POST /invitations/accept`; give it to the invitee only.")
    link: str = Field(description="Path for the invitee (the token after `#` never reaches a server log).")
    expiresAt: Timestamp
    sent: bool = Field(description="Whether it was also e-mailed (`ESCUTA_SMTP_HOST` set).")


class Invitation(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    invitedBy: str = Field(description="`user:<id>` or `platform-admin`.")
    createdAt: Timestamp
    expiresAt: Timestamp

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Invitation:
        return cls(
            id=row["id"],
            email=row["email"],
            role=row["role"],
            invitedBy=row["invited_by"],
            createdAt=row["created_at"],
            expiresAt=row["expires_at"],
        )


class InvitationList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": _ID,
                            "email": "bruno@redepharma.com.br",
                            "role": "member",
                            "invitedBy": "user:" + _ID,
                            "createdAt": _AT,
                            "expiresAt": _AT,
                        }
                    ]
                }
            ]
        }
    )

    items: list[Invitation]


class InvitationRevoked(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "revoked"}]})

    status: Literal["revoked"]


class AcceptBody(RequestBody):
    """Accept with the token plus either the invited account's access token (`Authorization: Bearer`) or
    a password: the new account's, or the existing account's own (which is the same as logging in)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"token": _TOKEN, "password": "uma senha longa"}]})

    token: str = Field(min_length=1, max_length=200)
    password: str | None = Field(None, min_length=8, max_length=256)
    name: str | None = Field(None, max_length=200, description="Display name of a new account.")


class Accepted(TokenPair):
    """Membership granted: a token pair already acting in the organization."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "accessToken": "eyJ...",
                    "refreshToken": "eyJ...",
                    "tokenType": "Bearer",
                    "expiresIn": 900,
                    "organization": {"id": _ID, "name": "Rede Pharma LTDA"},
                    "role": "member",
                }
            ]
        }
    )

    organization: OrgRef
    role: Role
