"""An organization's people, devices and keys: `/members`, `/cadastro` (seed 001), `/devices`, `/keys`.

Seed 001's field names (`codigo`, `api_key`, `balcao_id`, `razao_social`, ...) are its contract and stay
snake_case and Portuguese; Escuta's own routes answer in camelCase.
"""

from __future__ import annotations

import uuid
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from control_api.schemas.auth import Role
from control_api.schemas.common import EMAIL_PATTERN
from control_api.schemas.formats import NEXT_CURSOR_DESCRIPTION, RequestBody, Timestamp
from control_api.schemas.invitations import InvitationCreated
from core.language import DEFAULT_ORG_LANGUAGE, TAG_PATTERN
from core.naming import CLIENT_ID_PATTERN

_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
_AT = "2025-03-14T09:26:53.589793+00:00"

# --- members ---------------------------------------------------------------------------------------------


class MemberBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "bruno@redepharma.com.br", "role": "member"}]})

    email: str = Field(pattern=EMAIL_PATTERN, max_length=320)
    role: Literal["admin", "member"]
    password: str | None = Field(
        None,
        max_length=256,
        description="Ignored (accepted so older clients keep working): the invitee sets their own password.",
    )
    name: str | None = Field(None, max_length=200, description="Ignored: the invitee names themselves.")


class RoleBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "member"}]})

    role: Literal["admin", "member"]


class Member(BaseModel):
    id: uuid.UUID
    email: str
    name: str | None
    role: Role
    createdAt: Timestamp = Field(description="When they joined the organization.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Member:
        return cls(id=row["id"], email=row["email"], name=row["name"], role=row["role"], createdAt=row["created_at"])


class MemberList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"id": _ID, "email": "ana@redepharma.com.br", "name": "Ana", "role": "owner", "createdAt": _AT}
                    ]
                }
            ]
        }
    )

    items: list[Member]
    nextCursor: str | None = Field(None, description=NEXT_CURSOR_DESCRIPTION)


class MemberRemoved(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "removed"}]})

    status: Literal["removed"]


# --- /cadastro (seed 001) -----------------------------------------------------------------------------------


class ClienteBody(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "contato@redepharma.com", "razao_social": "Rede Pharma LTDA", "telefone": "11999998888"}
            ]
        }
    )

    email: str = Field(min_length=3, max_length=320)
    razao_social: str = Field(min_length=1, max_length=200)
    telefone: str = Field(min_length=1, max_length=40)
    idioma: str = Field(
        DEFAULT_ORG_LANGUAGE,
        pattern=TAG_PATTERN,
        max_length=10,
        description="The language the client's people speak (speech-to-text); `PUT /organization/language` changes it.",
    )
    client_id: str | None = Field(
        None,
        pattern=CLIENT_ID_PATTERN,
        description="Escuta's addition: the client's own id (seed 003's `clientId`, e.g. `123`); "
        "default: a generated 8-digit one.",
    )


class ClienteCreated(BaseModel):
    """The new client's first link code (seed 001), plus what Escuta made for it: the organization, its
    client id and its counter solution (`balcao`, profile `counter`), so its devices can get room tokens."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "codigo": "123456",
                    "organization_id": _ID,
                    "client_id": "123",
                    "solution": "balcao",
                    "invitation": InvitationCreated.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                }
            ]
        }
    )

    codigo: str = Field(pattern=r"^[0-9]{6}$")
    organization_id: uuid.UUID
    client_id: str = Field(description="Seed 003's `clientId` for this client's `/token` calls.")
    solution: str = Field(description="The counter solution its devices use (`balcao`).")
    invitation: InvitationCreated = Field(
        description="The owner invitation for the client's e-mail (issue 15.2): its token is shown here only."
    )


class LinkCode(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"codigo": "123456", "ttlSeconds": 86400, "maxDevices": 10}]}
    )

    codigo: str = Field(pattern=r"^[0-9]{6}$")
    ttlSeconds: int = Field(description="Valid for this long from now.")
    maxDevices: int = Field(description="Registers at most this many devices.")


class BalcaoBody(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"nome_balcao": "Balcão Entrada 01", "user_codigo": "123456"}]}
    )

    nome_balcao: str = Field(min_length=1, max_length=200)
    user_codigo: str = Field(pattern=r"^[0-9]{6}$")


class BalcaoRegistered(BaseModel):
    """The device's API key, shown in this answer and nowhere else, ever: it does not expire."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"api_key": "bk_a1b2c3d4...", "balcao_id": _ID, "status": "registered"}]}
    )

    api_key: str = Field(description="A `bk_...` device key, for `X-API-Key`.")
    balcao_id: uuid.UUID
    status: Literal["registered"]
    client_id: str = Field(description="The organization's client id (seed 003's `clientId`; its UUID if it has none).")
    solution: str | None = Field(description="The organization's counter solution, for `/token` (null: none yet).")


class OrganizationRef(BaseModel):
    id: uuid.UUID
    name: str
    clientId: str | None = Field(description="Seed 003's `clientId` (null: none set; the UUID works too).")


class DeviceMe(BaseModel):
    """Who a device key is: its device, organization and counter solution (what `/token` needs)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "name": "Balcão Entrada 01",
                    "organization": {"id": _ID, "name": "Rede Pharma LTDA", "clientId": "123"},
                    "solution": "balcao",
                }
            ]
        }
    )

    id: uuid.UUID
    name: str
    organization: OrganizationRef
    solution: str | None = Field(description="The organization's counter solution (null: none configured).")


# --- devices and publishable keys -------------------------------------------------------------------------


_DEVICE: JsonDict = {
    "id": _ID,
    "name": "Balcão Entrada 01",
    "keyPrefix": "bk_a1b2c3d4",
    "createdAt": _AT,
    "lastUsedAt": None,
    "revokedAt": None,
}


class Device(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DEVICE]})

    id: uuid.UUID
    name: str
    keyPrefix: str | None = Field(description="The public prefix of the device's key (never the key).")
    createdAt: Timestamp
    lastUsedAt: Timestamp | None
    revokedAt: Timestamp | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Device:
        return cls(
            id=row["id"],
            name=row["name"],
            keyPrefix=row["prefix"],
            createdAt=row["created_at"],
            lastUsedAt=row["last_used_at"],
            revokedAt=row["revoked_at"],
        )


class DeviceList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_DEVICE]}]})

    items: list[Device]
    nextCursor: str | None = Field(None, description=NEXT_CURSOR_DESCRIPTION)


class Revoked(BaseModel):
    """A device or key revoked (again: revoking twice is not an error)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "revoked"}]})

    status: Literal["revoked"]


class PublishableKeyBody(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "site", "allowedOrigins": ["https://www.redepharma.com.br"]}]}
    )

    name: str = Field(min_length=1, max_length=200)
    allowedOrigins: list[str] = Field(min_length=1, max_length=50, description="Exact origins: scheme://host[:port].")


class PublishableKeyCreated(BaseModel):
    """The key itself is in this answer only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "key": "pk_9f8e7d6c...",
                    "prefix": "pk_9f8e7d6c",
                    "name": "site",
                    "allowedOrigins": ["https://www.redepharma.com.br"],
                }
            ]
        }
    )

    id: uuid.UUID
    key: str
    prefix: str
    name: str
    allowedOrigins: list[str]


_KEY: JsonDict = {
    "id": _ID,
    "name": "site",
    "prefix": "pk_9f8e7d6c",
    "allowedOrigins": ["https://www.redepharma.com.br"],
    "createdAt": _AT,
    "lastUsedAt": None,
    "revokedAt": None,
}


class PublishableKey(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_KEY]})

    id: uuid.UUID
    name: str
    prefix: str
    allowedOrigins: list[str]
    createdAt: Timestamp
    lastUsedAt: Timestamp | None
    revokedAt: Timestamp | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> PublishableKey:
        return cls(
            id=row["id"],
            name=row["name"],
            prefix=row["prefix"],
            allowedOrigins=list(row["allowed_origins"]),
            createdAt=row["created_at"],
            lastUsedAt=row["last_used_at"],
            revokedAt=row["revoked_at"],
        )


class PublishableKeyList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_KEY]}]})

    items: list[PublishableKey]
    nextCursor: str | None = Field(None, description=NEXT_CURSOR_DESCRIPTION)
