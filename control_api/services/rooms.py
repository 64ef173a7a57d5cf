"""What minting a room token needs from the database, cached per API process for the hot path.

Shared by `POST /token` (and seed 003's `POST /`), `GET /new` and the Balto `/ws` bridge: a solution's
profile (5 s), an organization's client id (5 s), and the room registry (a room's first mint writes its
row, then once a minute). Profiles and client ids are keyed by organization, and also dropped as soon as
they change in any process: the credential cache's notifications (control_api/credential_cache.py).
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import asyncpg

from control_api.credential_cache import CACHE_MAX_ENTRIES, Change, credential_cache
from control_api.errors import ApiError
from db import accounts
from db import solutions as repo
from db.tenancy import tenant_connection

SOLUTION_CACHE_SECONDS = 5.0  # a changed profile reaches new tokens within this
CLIENT_ID_CACHE_SECONDS = 5.0
ROOM_REGISTRY_REFRESH = 60.0  # last_minted_at resolution per room


def _cache(state: Any, name: str) -> dict[Any, Any]:
    cache: dict[Any, Any] | None = getattr(state, name, None)
    if cache is None:
        cache = {}
        setattr(state, name, cache)
        if name in _INVALIDATED:
            credential_cache(state).on_change(lambda change: _invalidate(name, cache, change))
    return cache


_INVALIDATED = {"solution_cache": "solution", "client_id_cache": "org"}


def _invalidate(name: str, cache: dict[Any, Any], change: Change | None) -> None:
    """A change heard from the database: drop what it touches (None: everything)."""
    if change is None:
        cache.clear()
        return
    if change.get("t") != _INVALIDATED[name]:
        return
    try:
        org_id = UUID(str(change.get("org")))
    except ValueError:
        cache.clear()
        return
    if name == "solution_cache":
        cache.pop((org_id, change.get("name")), None)
    else:
        cache.pop(org_id, None)


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= CACHE_MAX_ENTRIES:
        cache.clear()  # bounded memory; an entry dropped is just read again
    cache[key] = value


async def solution_profile(state: Any, pool: asyncpg.Pool, org_id: UUID, solution: str) -> str | None:
    cache = _cache(state, "solution_cache")
    hit = cache.get((org_id, solution))
    now = time.monotonic()
    if hit is not None and now - hit[0] < SOLUTION_CACHE_SECONDS:
        return hit[1]  # type: ignore[no-any-return]
    async with tenant_connection(pool, org_id) as conn:
        found = await repo.get_solution(conn, org_id, solution)
    profile = found["profile"] if found else None
    _remember(cache, (org_id, solution), (now, profile))
    return profile


async def org_client_id(state: Any, pool: asyncpg.Pool, org_id: UUID) -> str | None:
    """The organization's external client id (seed 003's ``clientId``), or None."""
    cache = _cache(state, "client_id_cache")
    hit = cache.get(org_id)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CLIENT_ID_CACHE_SECONDS:
        return hit[1]  # type: ignore[no-any-return]
    async with tenant_connection(pool, org_id) as conn:
        org = await accounts.get_org(conn, org_id)
    client_id = org["client_id"] if org else None
    _remember(cache, org_id, (now, client_id))
    return client_id


def forget_client_id(state: Any, org_id: UUID) -> None:
    _cache(state, "client_id_cache").pop(org_id, None)


async def is_own_client_id(state: Any, pool: asyncpg.Pool, org_id: UUID, client_id: str) -> bool:
    """``clientId`` names the caller's organization: its UUID, or its external client id."""
    if client_id == str(org_id):
        return True
    return client_id == await org_client_id(state, pool, org_id)


async def register_room(state: Any, pool: asyncpg.Pool, org_id: UUID, room: str, solution: str, profile: str) -> None:
    """Record the room for the organization; 409 when another organization already owns that name."""
    registered = _cache(state, "room_registry_cache")
    now = time.monotonic()
    if now - registered.get((org_id, room), -ROOM_REGISTRY_REFRESH) < ROOM_REGISTRY_REFRESH:
        return
    async with tenant_connection(pool, org_id) as conn:
        ok = await repo.register_room(conn, org_id, room, solution, profile)
    if not ok:
        raise ApiError(409, "room_taken", "another organization's room already has this name; choose another userId")
    _remember(registered, (org_id, room), now)
