"""What minting a room token needs from the database, cached per API process for the hot path.

Shared by `POST /token` (and seed 003's `POST /`), `GET /new` and the Balto `/ws` bridge: a solution's
profile (5 s), an organization's client id (5 s), and the room registry (a room's first mint writes its
row, then once a minute). Profiles and client ids are keyed by organization, and also dropped as soon as
they change in any process: the credential cache's notifications (control_api/credential_cache.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from control_api.credential_cache import CACHE_MAX_ENTRIES, Change, credential_cache
from control_api.errors import ApiError
from db import accounts
from db import solutions as repo
from db.tenancy import tenant_connection

log = logging.getLogger("escuta.api.rooms")
_clock = time.monotonic  # the caches' clock (tests move it; asyncio's own clock stays real)

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


async def _read_through(state: Any, name: str, key: Any, ttl: float, load: Callable[[], Awaitable[Any]]) -> Any:
    """The cached value if younger than ``ttl``; else read (and cached).

    Past half its life an entry is refreshed in the background while requests keep using it: under
    steady traffic the hot path never waits for the database when an entry ages out, and a busy
    moment of PostgreSQL (an export's queries, say) does not become a pile of requests each reading
    the same row at once. One refresh per entry at a time.
    """
    cache = _cache(state, name)
    hit = cache.get(key)
    now = _clock()
    if hit is not None and now - hit[0] < ttl:
        if now - hit[0] >= ttl / 2:
            _refresh_ahead(state, name, key, load)
        return hit[1]
    value = await load()
    _remember(cache, key, (now, value))
    return value


def _refresh_ahead(state: Any, name: str, key: Any, load: Callable[[], Awaitable[Any]]) -> None:
    refreshing = _cache(state, "cache_refreshing")
    if (name, key) in refreshing:
        return

    async def refresh() -> None:
        started = _clock()
        try:
            value = await load()
        except Exception as exc:  # the entry keeps aging; the request that finds it expired reads it
            log.warning("cache refresh of %s failed: %s", name, type(exc).__name__)
            return
        finally:
            refreshing.pop((name, key), None)
        _remember(_cache(state, name), key, (started, value))

    refreshing[(name, key)] = asyncio.create_task(refresh())


async def solution_profile(state: Any, pool: asyncpg.Pool, org_id: UUID, solution: str) -> str | None:
    async def load() -> str | None:
        async with tenant_connection(pool, org_id) as conn:
            found = await repo.get_solution(conn, org_id, solution)
        return found["profile"] if found else None

    profile: str | None = await _read_through(state, "solution_cache", (org_id, solution), SOLUTION_CACHE_SECONDS, load)
    return profile


async def org_client_id(state: Any, pool: asyncpg.Pool, org_id: UUID) -> str | None:
    """The organization's external client id (seed 003's ``clientId``), or None."""

    async def load() -> str | None:
        async with tenant_connection(pool, org_id) as conn:
            org = await accounts.get_org(conn, org_id)
        return org["client_id"] if org else None

    client_id: str | None = await _read_through(state, "client_id_cache", org_id, CLIENT_ID_CACHE_SECONDS, load)
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
