"""Streamers and clips (seed 004). Every function takes a connection already scoped to ``org_id``
(``db.tenancy.tenant_connection``) and also filters by it: RLS is the second line, not the only one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from core.clips.source import ClipRecord
from core.crypto import decrypt_secret, encrypt_secret
from core.security.hints import secret_hint
from core.settings import Settings
from db.query import ALL, Keyset, Page, SortKey, Where, fetch_page

STREAMER_COLUMNS = """
    id, twitch_user_id, display_name, avatar_url, monitor_preset, monitor_interval_seconds,
    monitor_min_clips, api_mode, trial_expires_at, twitch_client_id, twitch_secret_hint,
    last_ingested_at, last_ingestion_error, created_at, updated_at
"""


@dataclass(frozen=True, slots=True)
class StreamerInput:
    """A streamer as the API or the CSV import gives it, monitoring settings already resolved."""

    twitch_user_id: str
    display_name: str
    avatar_url: str | None
    monitor_preset: str | None
    monitor_interval_seconds: int
    monitor_min_clips: int
    api_mode: str
    trial_expires_at: datetime | None
    twitch_client_id: str | None = None
    twitch_client_secret: str | None = None
    # Columns an update leaves as stored (an import row's empty optional columns): any of KEEPABLE.
    keep: frozenset[str] = frozenset()


# What `StreamerInput.keep` may name: "twitch_credentials" is the client id, the secret and its hint together.
KEEPABLE = frozenset({"avatar_url", "monitoring", "api_mode", "trial_expires_at", "twitch_credentials"})


def _kept(column: str, group: str) -> str:
    # `$13` is the list of kept groups; EXCLUDED is what this row would write, t the stored row.
    return f"{column} = CASE WHEN '{group}' = ANY($13::text[]) THEN t.{column} ELSE EXCLUDED.{column} END"


_UPDATE_SET = ",\n               ".join(
    [
        "display_name = EXCLUDED.display_name",
        _kept("avatar_url", "avatar_url"),
        _kept("monitor_preset", "monitoring"),
        _kept("monitor_interval_seconds", "monitoring"),
        _kept("monitor_min_clips", "monitoring"),
        # Kept credentials with no api_mode given: the stored mode; new ones switch to client mode.
        "api_mode = CASE WHEN 'api_mode' = ANY($13::text[]) THEN "
        "(CASE WHEN 'twitch_credentials' = ANY($13::text[]) THEN t.api_mode ELSE $8 END) "
        "ELSE $8 END",
        _kept("trial_expires_at", "trial_expires_at"),
        _kept("twitch_client_id", "twitch_credentials"),
        _kept("twitch_client_secret", "twitch_credentials"),
        _kept("twitch_secret_hint", "twitch_credentials"),
    ]
)


class ClientModeWithoutCredentials(ValueError):
    """``api_mode = client`` for a streamer with no Twitch credentials, given or stored."""


def _secret_aad(org_id: UUID, twitch_user_id: str) -> bytes:
    # Binds the ciphertext to its row: copied to another streamer or organization it does not decrypt.
    return f"{org_id}:streamer:{twitch_user_id}:twitch".encode()


def _hint(secret: str) -> str:
    return secret_hint(secret, head=0)  # `…` and the last characters, at most a quarter of the secret


async def upsert_streamer(
    conn: asyncpg.Connection, org_id: UUID, s: StreamerInput, settings: Settings
) -> tuple[asyncpg.Record, bool]:
    """Insert, or update (and un-delete) the org's streamer with this Twitch id. Returns (row, created)."""
    blob = hint = None
    if s.api_mode == "client" and s.twitch_client_id is None and "twitch_credentials" not in s.keep:
        raise ClientModeWithoutCredentials(s.twitch_user_id)
    if s.twitch_client_secret:
        blob = encrypt_secret(s.twitch_client_secret, settings, aad=_secret_aad(org_id, s.twitch_user_id))
        hint = _hint(s.twitch_client_secret)
    try:
        row = await _upsert(conn, org_id, s, blob, hint)
    except asyncpg.CheckViolationError:
        raise ClientModeWithoutCredentials(s.twitch_user_id) from None  # the stored row had none either
    assert row is not None
    if row["api_mode"] != s.api_mode and "api_mode" not in s.keep:
        raise ClientModeWithoutCredentials(s.twitch_user_id)  # a new streamer: nothing stored to keep
    return row, bool(row["created"])


async def _upsert(
    conn: asyncpg.Connection, org_id: UUID, s: StreamerInput, blob: bytes | None, hint: str | None
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        INSERT INTO streamers AS t (org_id, twitch_user_id, display_name, avatar_url, monitor_preset,
            monitor_interval_seconds, monitor_min_clips, api_mode, trial_expires_at, twitch_client_id,
            twitch_client_secret, twitch_secret_hint)
        VALUES ($1, $2, $3, $4, $5, $6, $7,
                -- PostgreSQL checks the proposed row before the conflict: client mode with credentials
                -- kept from the stored row is proposed as shared, and the update below sets the mode.
                CASE WHEN $8 = 'client' AND $10::text IS NULL THEN 'shared' ELSE $8 END,
                $9, $10, $11, $12)
        ON CONFLICT (org_id, twitch_user_id) DO UPDATE
           SET {_UPDATE_SET},
               deleted_at = NULL, updated_at = now()
        RETURNING {STREAMER_COLUMNS}, (xmax = 0) AS created
        """,
        org_id,
        s.twitch_user_id,
        s.display_name,
        s.avatar_url,
        s.monitor_preset,
        s.monitor_interval_seconds,
        s.monitor_min_clips,
        s.api_mode,
        s.trial_expires_at,
        s.twitch_client_id,
        blob,
        hint,
        sorted(s.keep),
    )
    return row


async def list_streamers(conn: asyncpg.Connection, org_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {STREAMER_COLUMNS} FROM streamers WHERE org_id = $1 AND deleted_at IS NULL "
            "ORDER BY display_name, id",
            org_id,
        )
    )


async def get_streamer(conn: asyncpg.Connection, org_id: UUID, streamer_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {STREAMER_COLUMNS} FROM streamers WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL",
        org_id,
        streamer_id,
    )
    return row


async def active_streamer_ids(conn: asyncpg.Connection, org_id: UUID) -> dict[str, UUID]:
    rows = await conn.fetch("SELECT twitch_user_id, id FROM streamers WHERE org_id = $1 AND deleted_at IS NULL", org_id)
    return {r["twitch_user_id"]: r["id"] for r in rows}


async def delete_streamer(conn: asyncpg.Connection, org_id: UUID, streamer_id: UUID) -> bool:
    """Stop monitoring. The clips and bursts stay: a later POST of the same streamer brings them back."""
    status = await conn.execute(
        "UPDATE streamers SET deleted_at = now(), updated_at = now() "
        "WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL",
        org_id,
        streamer_id,
    )
    return status != "UPDATE 0"


async def streamer_app_credentials(
    conn: asyncpg.Connection, org_id: UUID, streamer_id: UUID, settings: Settings
) -> tuple[str, str] | None:
    """The streamer's own Twitch app (api_mode=client), decrypted; None if it has none."""
    row = await conn.fetchrow(
        "SELECT twitch_user_id, twitch_client_id, twitch_client_secret FROM streamers WHERE org_id = $1 AND id = $2",
        org_id,
        streamer_id,
    )
    if row is None or row["twitch_client_secret"] is None:
        return None
    secret = decrypt_secret(
        bytes(row["twitch_client_secret"]), settings, aad=_secret_aad(org_id, row["twitch_user_id"])
    )
    return str(row["twitch_client_id"]), secret


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int
    updated: int
    earliest_new: datetime | None  # the oldest clip inserted: bursts are recomputed from there


async def upsert_clips(
    conn: asyncpg.Connection, org_id: UUID, streamer_id: UUID, clips: Sequence[ClipRecord], source: str
) -> UpsertResult:
    """Insert new clips, refresh the changing fields of known ones; never delete or move a clip."""
    unique = {c.clip_id: c for c in clips}  # one row may not be upserted twice in one statement
    if not unique:
        return UpsertResult(0, 0, None)
    cs = list(unique.values())
    rows = await conn.fetch(
        """
        INSERT INTO clips AS c (org_id, streamer_id, clip_id, created_at, viewer_count, video_id, title,
                               duration, url, thumbnail_url, game_id, source)
        SELECT $1, $2, u.clip_id, u.created_at, u.viewer_count, u.video_id, u.title, u.duration, u.url,
               u.thumbnail_url, u.game_id, $12
          FROM unnest($3::text[], $4::timestamptz[], $5::int[], $6::text[], $7::text[], $8::float8[],
                      $9::text[], $10::text[], $11::text[])
               AS u(clip_id, created_at, viewer_count, video_id, title, duration, url, thumbnail_url, game_id)
        ON CONFLICT (org_id, clip_id) DO UPDATE
           SET viewer_count = GREATEST(c.viewer_count, EXCLUDED.viewer_count),
               title = EXCLUDED.title,
               video_id = COALESCE(EXCLUDED.video_id, c.video_id),
               duration = EXCLUDED.duration,
               url = COALESCE(EXCLUDED.url, c.url),
               thumbnail_url = COALESCE(EXCLUDED.thumbnail_url, c.thumbnail_url),
               game_id = COALESCE(EXCLUDED.game_id, c.game_id),
               updated_at = now()
         WHERE c.streamer_id = EXCLUDED.streamer_id
           AND (c.viewer_count < EXCLUDED.viewer_count OR c.title IS DISTINCT FROM EXCLUDED.title
                OR c.duration IS DISTINCT FROM EXCLUDED.duration
                OR (EXCLUDED.video_id IS NOT NULL AND c.video_id IS DISTINCT FROM EXCLUDED.video_id))
        RETURNING (xmax = 0) AS inserted, created_at
        """,
        org_id,
        streamer_id,
        [c.clip_id for c in cs],
        [c.created_at for c in cs],
        [c.view_count for c in cs],
        [c.video_id for c in cs],
        [c.title for c in cs],
        [c.duration for c in cs],
        [c.url for c in cs],
        [c.thumbnail_url for c in cs],
        [c.game_id for c in cs],
        source,
    )
    new = [r["created_at"] for r in rows if r["inserted"]]
    return UpsertResult(len(new), len(rows) - len(new), min(new) if new else None)


async def streamer_active_for_update(conn: asyncpg.Connection, org_id: UUID, twitch_user_id: str) -> bool | None:
    """Whether the streamer is monitored (None: never added), row-locked until the transaction ends."""
    active: bool | None = await conn.fetchval(
        "SELECT deleted_at IS NULL FROM streamers WHERE org_id = $1 AND twitch_user_id = $2 FOR UPDATE",
        org_id,
        twitch_user_id,
    )
    return active


async def ingestion_targets(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every monitored streamer of every organization (org_id, streamer_id, trial_expired): a SECURITY
    DEFINER function, because the ingestion job runs for all tenants and reads each one scoped after."""
    return await conn.fetch("SELECT * FROM escuta_clip_ingestion_targets()")


async def ingestion_state(conn: asyncpg.Connection, org_id: UUID, streamer_id: UUID) -> asyncpg.Record | None:
    """What the next ingestion of a streamer starts from (and the database's now); None if deleted."""
    return await conn.fetchrow(
        "SELECT twitch_user_id, api_mode, last_ingested_at, now() AS now FROM streamers "
        "WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL",
        org_id,
        streamer_id,
    )


async def mark_ingested(conn: asyncpg.Connection, org_id: UUID, streamer_id: UUID, until: datetime) -> None:
    await conn.execute(
        "UPDATE streamers SET last_ingested_at = $3, last_ingestion_error = NULL WHERE org_id = $1 AND id = $2",
        org_id,
        streamer_id,
        until,
    )


async def mark_ingestion_failed(conn: asyncpg.Connection, org_id: UUID, streamer_id: UUID, reason: str) -> None:
    await conn.execute(
        "UPDATE streamers SET last_ingestion_error = $3 WHERE org_id = $1 AND id = $2", org_id, streamer_id, reason
    )


STREAMERS = Keyset("streamers", (SortKey("display_name", "text"), SortKey("id", "uuid")))


async def page_streamers(
    conn: asyncpg.Connection, org_id: UUID, *, limit: int = ALL, cursor: str | None = None
) -> Page:
    where = Where().org("org_id", org_id).raw("deleted_at IS NULL")
    select = f"SELECT {STREAMER_COLUMNS} FROM streamers"
    return await fetch_page(conn, STREAMERS, select=select, where=where, limit=limit, cursor=cursor)
