"""Keyset paging and tenant predicates (issue 20.1): cursors walk every row once, filters, isolation, plans."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from db.pool import Conn
from db.query import Where, select_page
from db.sessions import SESSIONS
from db.tenancy import tenant_connection

T0 = datetime(2025, 3, 1, tzinfo=UTC)


async def _org(conn: Conn, name: str) -> uuid.UUID:
    org: uuid.UUID = await conn.fetchval("INSERT INTO organizations (name) VALUES ($1) RETURNING id", name)
    return org


async def _sessions(conn: Conn, org: uuid.UUID | None, n: int, prefix: str, ties: int = 3) -> None:
    """``n`` sessions, ``ties`` of them per start time (ties are what a careless cursor skips or repeats)."""
    rows = [
        (
            f"RM_{prefix}_{k:05d}",
            f"{prefix}-room-{k % 4}",
            "ACTIVE" if k % 5 == 0 else "ENDED",
            T0 + timedelta(minutes=k // ties),
            org,
        )
        for k in range(n)
    ]
    await conn.copy_records_to_table(
        "sessions", records=rows, columns=["meeting_id", "room_name", "status", "started_at", "org_id"]
    )


async def _walk(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        q = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/sessions", params=q, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        cursor = body["nextCursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


def _expected(rows: list[asyncpg.Record]) -> list[str]:
    return [r["meeting_id"] for r in sorted(rows, key=lambda r: (-r["started_at"].timestamp(), r["meeting_id"]))]


async def test_cursor_walks_every_row_once_with_ties_and_filters(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, admin_headers: dict[str, str]
) -> None:
    async with db_pool.acquire() as conn:
        a, b = await _org(conn, "A"), await _org(conn, "B")
        await _sessions(conn, a, 47, "a")
        await _sessions(conn, b, 20, "b")
        await _sessions(conn, None, 9, "n")
        rows_a = await conn.fetch("SELECT * FROM sessions WHERE org_id = $1", a)
        rows_n = await conn.fetch("SELECT * FROM sessions WHERE org_id IS NULL")

    walked = await _walk(client, admin_headers, orgId=str(a), limit=4)
    ids = [s["meetingId"] for s in walked]
    assert ids == _expected(list(rows_a)), "every row once, in the list's order, ties included"
    assert len(set(ids)) == len(ids) == 47

    # Filters, each alone and together, while paging.
    active = await _walk(client, admin_headers, orgId=str(a), limit=3, status="ACTIVE")
    assert [s["meetingId"] for s in active] == _expected([r for r in rows_a if r["status"] == "ACTIVE"])
    room = await _walk(client, admin_headers, orgId=str(a), limit=2, room="a-room-1", status="ENDED")
    want = [r for r in rows_a if r["room_name"] == "a-room-1" and r["status"] == "ENDED"]
    assert [s["meetingId"] for s in room] == _expected(want) and want

    # The platform's view (no orgId) is the unowned sessions only; another org's never appear.
    unowned = await _walk(client, admin_headers, limit=4)
    assert [s["meetingId"] for s in unowned] == _expected(list(rows_n))

    # offset still pages the same order; the first page's cursor continues where offset would.
    r = await client.get("/sessions", params={"orgId": str(a), "limit": 5, "offset": 5}, headers=admin_headers)
    assert [s["meetingId"] for s in r.json()["items"]] == ids[5:10]


async def test_a_member_pages_only_its_organization(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    from tests.accounts.helpers import register

    org = await register(client, "Farmacia Paging")
    async with db_pool.acquire() as conn:
        other = await _org(conn, "Other")
        await _sessions(conn, uuid.UUID(org.org_id), 7, "mine")
        await _sessions(conn, other, 30, "theirs")
        await _sessions(conn, None, 5, "nobody")
    walked = await _walk(client, org.headers, limit=2)
    assert len(walked) == 7 and all(s["meetingId"].startswith("RM_mine_") for s in walked)
    # orgId is ignored for a member: still their own rows.
    walked = await _walk(client, org.headers, limit=50, orgId=str(other))
    assert {s["meetingId"][:7] for s in walked} == {"RM_mine"}


async def test_bad_cursors_are_400(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    foreign = "eyJsIjoiZXhwb3J0X2pvYnMiLCJrIjpbXX0"  # {"l":"export_jobs","k":[]}: another list's
    for cursor in ("not-base64-json", foreign, "eyJsIjoic2Vzc2lvbnMiLCJrIjpbMSwyXX0"):
        r = await client.get("/sessions", params={"cursor": cursor}, headers=admin_headers)
        assert r.status_code == 400, (cursor, r.text)
        assert r.json()["error"]["code"] == "invalid_request"
        assert r.json()["error"]["message"].startswith("cursor:")
    r = await client.get("/sessions", params={"cursor": "a b"}, headers=admin_headers)
    assert r.status_code == 400


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = [plan]
    for child in plan.get("Plans", []):
        out += _nodes(child)
    return out


async def _plan(conn: Conn, sql: str, args: list[Any]) -> list[dict[str, Any]]:
    raw = await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args)
    doc = json.loads(raw) if isinstance(raw, str) else raw
    return _nodes(doc[0]["Plan"])


async def test_small_organizations_first_page_uses_an_index(db_pool: asyncpg.Pool) -> None:
    """Under row-level security, a small org's page next to a big one reads its index range, not the table."""
    async with db_pool.acquire() as conn:
        big, small = await _org(conn, "Big"), await _org(conn, "Small")
        await _sessions(conn, big, 20_000, "big", ties=1)
        await _sessions(conn, small, 30, "small")
        await _sessions(conn, None, 2_000, "none")
        await conn.execute("ANALYZE sessions")
    cases: list[tuple[uuid.UUID | None, dict[str, Any]]] = [
        (small, {}),
        (small, {"status": "ACTIVE"}),
        (small, {"room": "small-room-1"}),
        (big, {}),  # the big org's first page: the top of its index range, no sort of its 20,000 rows
        (None, {}),  # the platform's view: org_id IS NULL is an index condition too
    ]
    for org, filters in cases:
        where = Where().org("org_id", org).eq("status", filters.get("status")).eq("room_name", filters.get("room"))
        sql, args = select_page(SESSIONS, select="SELECT * FROM sessions", where=where, limit=50)
        async with tenant_connection(db_pool, org) as conn:
            nodes = await _plan(conn, sql, args)
            rows = await conn.fetch(sql, *args)
        kinds = {n["Node Type"] for n in nodes}
        scans = [n for n in nodes if n.get("Relation Name") == "sessions"]
        assert scans and all(n["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan") for n in scans), (
            org,
            filters,
            kinds,
        )
        if org == big:  # a small range may be sorted after its index scan; the big one must not be
            assert "Sort" not in kinds, (org, filters, kinds)
        assert "Seq Scan" not in kinds
        assert rows, "the query answers"
    # The rewritten policy keeps the old semantics: a tenant sees its rows only, no organization only unowned.
    async with tenant_connection(db_pool, small) as conn:
        assert await conn.fetchval("SELECT count(*) FROM sessions") == 30
    async with tenant_connection(db_pool, None) as conn:
        assert await conn.fetchval("SELECT count(*) FROM sessions") == 2_000


async def _walk_list(client: httpx.AsyncClient, path: str, headers: dict[str, str], limit: int, key: str) -> list[Any]:
    out: list[Any] = []
    cursor = None
    for _ in range(100):
        r = await client.get(path, params={"limit": limit, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert r.status_code == 200, r.text
        out += [item[key] for item in r.json()["items"]]
        cursor = r.json()["nextCursor"]
        if cursor is None:
            return out
    raise AssertionError("the cursor never ended")


async def test_other_lists_page_by_cursor(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    from tests.accounts.helpers import register

    org = await register(client, "Farmacia Listas")
    other = await register(client, "Farmacia Outra")
    oid = uuid.UUID(org.org_id)
    async with db_pool.acquire() as conn:
        for o, tag in ((oid, "mine"), (uuid.UUID(other.org_id), "theirs")):
            await conn.copy_records_to_table(
                "catalog_products",
                records=[(o, f"{tag} Produto {k:03d}") for k in range(23)],
                columns=["org_id", "name"],
            )
            await conn.copy_records_to_table(
                "platform_admin_actions",
                records=[(o, "admin-token", "GET", f"/{tag}/{k}", T0 + timedelta(seconds=k // 2)) for k in range(13)],
                columns=["org_id", "actor", "method", "path", "created_at"],
            )
            await conn.copy_records_to_table(
                "devices",
                records=[(o, f"{tag} balcão {k}", T0 + timedelta(seconds=k // 3)) for k in range(8)],
                columns=["org_id", "name", "created_at"],
            )
    names = await _walk_list(client, "/catalog/products", org.headers, 4, "name")
    assert names == [f"mine Produto {k:03d}" for k in range(23)]
    paths = await _walk_list(client, "/organization/audit", org.headers, 5, "path")
    assert sorted(paths) == sorted(f"/mine/{k}" for k in range(13)) and len(paths) == 13
    devices = await _walk_list(client, "/devices", org.headers, 3, "name")
    assert sorted(devices) == sorted(f"mine balcão {k}" for k in range(8)) and len(devices) == 8
    # Without limit, the bounded lists answer every row, as before.
    r = await client.get("/devices", headers=org.headers)
    assert len(r.json()["items"]) == 8 and r.json()["nextCursor"] is None
    # A cursor of one list is refused by another.
    r = await client.get("/catalog/products", params={"limit": 2}, headers=org.headers)
    r = await client.get("/devices", params={"cursor": r.json()["nextCursor"]}, headers=org.headers)
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "cursor"
