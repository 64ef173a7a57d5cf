"""Queries for the avatar configuration and media triggers (migration 0060). Callers open a tenant
connection (db.tenancy); every query still filters by ``org_id`` (the first line of isolation)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from db.pool import Conn
from db.query import ALL, Keyset, Page, SortKey, Where, fetch_page

_CONFIG_COLUMNS = "org_id, avatar_id, instructions, language, tts_provider, voice_id, greeting, created_at, updated_at"

# A trigger's editable columns, in the order insert_trigger and update_trigger bind them.
_TRIGGER_FIELDS = (
    "name",
    "phrases",
    "media_type",
    "media_url",
    "title",
    "display_seconds",
    "cooldown_seconds",
    "enabled",
)
_TRIGGER_COLUMNS = ", ".join(("id", *_TRIGGER_FIELDS, "created_at", "updated_at"))


async def get_config(conn: Conn, org_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_CONFIG_COLUMNS} FROM avatar_configs WHERE org_id = $1", org_id)


async def put_config(conn: Conn, org_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        INSERT INTO avatar_configs (org_id, avatar_id, instructions, language, tts_provider, voice_id, greeting)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (org_id) DO UPDATE SET
            avatar_id = EXCLUDED.avatar_id, instructions = EXCLUDED.instructions, language = EXCLUDED.language,
            tts_provider = EXCLUDED.tts_provider, voice_id = EXCLUDED.voice_id, greeting = EXCLUDED.greeting,
            updated_at = now()
        RETURNING {_CONFIG_COLUMNS}
        """,
        org_id,
        values["avatar_id"],
        values["instructions"],
        values["language"],
        values["tts_provider"],
        values["voice_id"],
        values["greeting"],
    )
    assert row is not None
    return row


async def delete_config(conn: Conn, org_id: UUID) -> bool:
    return await conn.execute("DELETE FROM avatar_configs WHERE org_id = $1", org_id) != "DELETE 0"


async def list_triggers(conn: Conn, org_id: UUID, *, enabled_only: bool = False) -> list[asyncpg.Record]:
    where = "org_id = $1" + (" AND enabled" if enabled_only else "")
    return list(await conn.fetch(f"SELECT {_TRIGGER_COLUMNS} FROM media_triggers WHERE {where} ORDER BY name", org_id))


async def get_trigger(conn: Conn, org_id: UUID, trigger_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_TRIGGER_COLUMNS} FROM media_triggers WHERE org_id = $1 AND id = $2", org_id, trigger_id
    )


def _trigger_values(v: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(v[k] for k in _TRIGGER_FIELDS)


async def insert_trigger(conn: Conn, org_id: UUID, v: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        INSERT INTO media_triggers
            (org_id, name, phrases, media_type, media_url, title, display_seconds, cooldown_seconds, enabled)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING {_TRIGGER_COLUMNS}
        """,
        org_id,
        *_trigger_values(v),
    )
    assert row is not None
    return row


async def update_trigger(conn: Conn, org_id: UUID, trigger_id: UUID, v: dict[str, Any]) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        UPDATE media_triggers SET name = $3, phrases = $4, media_type = $5, media_url = $6, title = $7,
               display_seconds = $8, cooldown_seconds = $9, enabled = $10, updated_at = now()
         WHERE org_id = $1 AND id = $2
        RETURNING {_TRIGGER_COLUMNS}
        """,
        org_id,
        trigger_id,
        *_trigger_values(v),
    )


async def delete_trigger(conn: Conn, org_id: UUID, trigger_id: UUID) -> bool:
    status = await conn.execute("DELETE FROM media_triggers WHERE org_id = $1 AND id = $2", org_id, trigger_id)
    return status != "DELETE 0"


TRIGGERS = Keyset("media_triggers", (SortKey("name", "text"),))  # unique per organization


async def page_triggers(conn: Conn, org_id: UUID, *, limit: int = ALL, cursor: str | None = None) -> Page:
    where = Where().org("org_id", org_id)
    select = f"SELECT {_TRIGGER_COLUMNS} FROM media_triggers"
    return await fetch_page(conn, TRIGGERS, select=select, where=where, limit=limit, cursor=cursor)
