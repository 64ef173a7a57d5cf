"""`/organization`: the caller's organization, its client id (seed 003) and the platform admin's audit trail."""

from __future__ import annotations

import uuid

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from control_api.schemas.formats import NEXT_CURSOR_DESCRIPTION, RequestBody, Timestamp
from core.naming import CLIENT_ID_PATTERN

_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
_AT = "2025-03-14T09:26:53.589793+00:00"


class Organization(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "name": "Rede Pharma LTDA",
                    "clientId": "123",
                    "email": "contato@redepharma.com",
                    "phone": "11999998888",
                    "createdAt": _AT,
                }
            ]
        }
    )

    id: uuid.UUID
    name: str
    clientId: str | None = Field(description="Seed 003's `clientId` (unique); `/token` accepts it or the UUID.")
    email: str | None
    phone: str | None
    createdAt: Timestamp

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Organization:
        return cls(
            id=row["id"],
            name=row["name"],
            clientId=row["client_id"],
            email=row["email"],
            phone=row["phone"],
            createdAt=row["created_at"],
        )


class ClientIdBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"clientId": "123"}]})

    clientId: str | None = Field(
        pattern=CLIENT_ID_PATTERN, description="Letters, digits, `_` and `.` (no hyphen); null removes it."
    )


class AdminAction(BaseModel):
    actor: str = Field(description="`admin-token` or `user:<id>` (a platform admin user).")
    method: str
    path: str
    at: Timestamp


class AdminActionList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [{"actor": "admin-token", "method": "GET", "path": "/devices", "at": _AT}]}]
        }
    )

    items: list[AdminAction]
    nextCursor: str | None = Field(None, description=NEXT_CURSOR_DESCRIPTION)

    @classmethod
    def from_rows(cls, rows: list[asyncpg.Record], next_cursor: str | None = None) -> AdminActionList:
        return cls(
            nextCursor=next_cursor,
            items=[AdminAction(actor=r["actor"], method=r["method"], path=r["path"], at=r["created_at"]) for r in rows],
        )
