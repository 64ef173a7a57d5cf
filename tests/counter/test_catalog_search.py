"""`GET /catalog/products?q=` at scale (issue 20.1): trigram indexes under row-level security, the capped
`total`, the same substring semantics at every query length, hostile input (real PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

import db.counter as counter
from db.pool import Conn
from db.tenancy import tenant_connection
from tests.accounts.helpers import Org, register

# Names and indications with accents and mixed case; the search is a case-insensitive substring of either.
CATALOG: list[tuple[str, list[str]]] = [
    ("AÇÚCAR Mascavo", []),
    ("Dipirona 500 mg", ["dor de cabeça", "FEBRE"]),
    ("Omeprazol 20 mg", ["azia", "Refluxo"]),
    ("Pastilha Hortelã", ["garganta irritada"]),
    ("Loratadina 10 mg", ["alergia", "espirro"]),
    ("Sal de Frutas 100%", ["azia", "má digestão"]),
    ("Vitamina C_1g", ["imunidade"]),
    ("Creme \\ barra", ["pele seca"]),
    ("Xarope Infantil", ["tosse", "CRIANÇA com tosse"]),
]
QUERIES = ["a", "ç", "Ç", "ú", "zi", "AZ", "azia", "AZIA", "cabeça", "CABEÇA", "cabeca", "tosse", "rança", "%", "_",
           "\\", "100%", "c_1", "mg", "ortel", " de ", "dor de cabeça", "xyz", "refluxo azia"]  # fmt: skip


def _expected(query: str) -> list[str]:
    """The reference semantics: substring of the lower-cased name or of the indications joined by spaces."""
    q = query.lower()
    hits = [name for name, ind in CATALOG if q in name.lower() or q in " ".join(ind).lower()]
    return sorted(hits, key=str.lower)


async def _insert(conn: Conn, org: str | uuid.UUID, rows: list[tuple[str, list[str]]]) -> None:
    await conn.copy_records_to_table(
        "catalog_products",
        records=[(uuid.UUID(str(org)), name, ind) for name, ind in rows],
        columns=["org_id", "name", "indications"],
    )


async def _names(client: httpx.AsyncClient, org: Org, **params: Any) -> tuple[list[str], dict[str, Any]]:
    """Every match, paged by cursor (3 at a time), and the first page's body."""
    names: list[str] = []
    first: dict[str, Any] = {}
    cursor = None
    for _ in range(50):
        r = await client.get(
            "/catalog/products",
            params={**params, "limit": 3, **({"cursor": cursor} if cursor else {})},
            headers=org.headers,
        )
        assert r.status_code == 200, r.text
        first = first or r.json()
        names += [p["name"] for p in r.json()["items"]]
        cursor = r.json()["nextCursor"]
        if cursor is None:
            return names, first
    raise AssertionError("the cursor never ended")


@pytest.mark.parametrize("probe_rows", [1_500, 2], ids=["catalog-within-probe", "past-the-probe"])
async def test_search_semantics_at_every_length(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, probe_rows: int
) -> None:
    """Each way of counting (the probe alone; trigram matches by id; a scan for 1-2 characters) answers the same."""
    monkeypatch.setattr(counter, "PROBE_ROWS", probe_rows)
    org, other = await register(client, "Farmácia A"), await register(client, "Farmácia B")
    async with db_pool.acquire() as conn:
        await _insert(conn, org.org_id, CATALOG)
        await _insert(conn, other.org_id, [(f"{name} (B)", ind) for name, ind in CATALOG])
    for q in QUERIES:
        names, body = await _names(client, org, q=q)
        assert names == _expected(q), q
        assert body["total"] == len(names) and body["totalExact"] is True, q
    assert _expected("cabeca") == [], "accents are kept: 'cabeca' does not find 'cabeça' (as before)"
    assert _expected("ç") == _expected("Ç") != [], "case is ignored for accented letters too"


async def test_hostile_queries(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    org = await register(client)
    async with db_pool.acquire() as conn:
        await _insert(conn, org.org_id, CATALOG)
    for q in ["%%", "_%_", "\\%", "%\\", "'; DROP TABLE catalog_products; --", "a" * 100, "\\\\\\"]:
        r = await client.get("/catalog/products", params={"q": q}, headers=org.headers)
        assert r.status_code == 200, (q, r.text)
        assert [p["name"] for p in r.json()["items"]] == _expected(q), q
    for q in ["a" * 101, "dor\x00"]:
        r = await client.get("/catalog/products", params={"q": q}, headers=org.headers)
        assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "q", (q[:5], r.text)


async def test_total_is_exact_below_the_cap_and_capped_above(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counter, "TOTAL_CAP", 6)
    monkeypatch.setattr(counter, "SEARCH_TOTAL_CAP", 3)
    monkeypatch.setattr(counter, "SHORT_SEARCH_TOTAL_CAP", 2)
    monkeypatch.setattr(counter, "PROBE_ROWS", 4)
    exact, many = await register(client, "Exact"), await register(client, "Many")
    async with db_pool.acquire() as conn:
        await _insert(conn, exact.org_id, [(f"Produto {k}", ["azia" if k < 3 else "febre"]) for k in range(6)])
        await _insert(conn, many.org_id, [(f"Produto {k}", ["azia" if k < 5 else "febre"]) for k in range(9)])

    async def total(org: Org, **params: Any) -> tuple[int, bool, int]:
        r = await client.get("/catalog/products", params=params, headers=org.headers)
        assert r.status_code == 200, r.text
        return r.json()["total"], r.json()["totalExact"], len(r.json()["items"])

    assert await total(exact) == (6, True, 6), "the list, at its cap: exact"
    assert await total(many) == (6, False, 9), "the list above its cap: the cap, and more rows than it says"
    assert await total(exact, q="azia") == (3, True, 3), "a search at its cap (trigram path): exact"
    assert await total(many, q="azia") == (3, False, 5), "a search above its cap: capped, every match listed"
    assert await total(exact, q="zi") == (2, False, 3), "1-2 characters (no trigram): a smaller cap"
    assert await total(many, q="zi") == (2, False, 5)
    assert await total(exact, q="o 1") == (1, True, 1), "no trigram, below the smaller cap: exact"
    assert await total(many, q="produto") == (3, False, 9), "dense: the probe proves it capped"
    assert await total(many, q="zzz") == (0, True, 0)
    names, _ = await _names(client, many, q="azia")
    assert names == [f"Produto {k}" for k in range(5)], "a capped search still pages to the last match"


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = [plan]
    for child in plan.get("Plans", []):
        out += _nodes(child)
    return out


class _Explaining:
    """A connection that EXPLAINs each query before running it, under the settings in force at that moment."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn
        self.plans: list[tuple[str, list[dict[str, Any]]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def _explain(self, sql: str, args: tuple[Any, ...]) -> None:
        raw = await self._conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args)
        doc = json.loads(raw) if isinstance(raw, str) else raw
        self.plans.append((sql, _nodes(doc[0]["Plan"])))

    async def fetch(self, sql: str, *args: Any) -> Any:
        await self._explain(sql, args)
        return await self._conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        await self._explain(sql, args)
        return await self._conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        await self._explain(sql, args)
        return await self._conn.fetchval(sql, *args)


async def _index_scans(conn: Conn) -> dict[str, int]:
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    rows = await conn.fetch(
        "SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE relname = 'catalog_products'"
    )
    return {r["indexrelname"]: r["idx_scan"] for r in rows}


async def test_search_reads_the_trigram_indexes(db_pool: asyncpg.Pool) -> None:
    """On an analysed table of 20,000 products, a rare pattern reads the trigram indexes, none of the
    search's queries scans the table, and the page reads its few matches by id."""
    async with db_pool.acquire() as conn:
        big = await conn.fetchval("INSERT INTO organizations (name) VALUES ('Big') RETURNING id")
        small = await conn.fetchval("INSERT INTO organizations (name) VALUES ('Small') RETURNING id")
        await _insert(conn, big, [(f"Produto {k:05d}", ["azia"] if k % 500 == 0 else ["febre"]) for k in range(20_000)])
        await _insert(conn, small, [(f"Produto {k:02d}", ["azia"]) for k in range(30)])
        await conn.execute("VACUUM ANALYZE catalog_products")
        trgm = await conn.fetchval("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'catalog_products_%_trgm'")

    async def run(org: uuid.UUID, query: str | None) -> tuple[_Explaining, counter.ProductCount, int]:
        async with db_pool.acquire() as conn, tenant_connection(conn, org) as scoped:
            spy = _Explaining(scoped)
            page, count = await counter.page_products(spy, org, query=query, limit=20, offset=0, cursor=None)  # type: ignore[arg-type]
        return spy, count, len(page.rows)

    spy, count, n = await run(big, "AZIA")
    assert (count.total, count.exact, n) == (40, True, 20)
    for sql, nodes in spy.plans:
        assert not any(
            nd["Node Type"] == "Seq Scan" and nd.get("Relation Name") == "catalog_products" for nd in nodes
        ), sql
    page_plan = spy.plans[-1][1]
    assert any("ANY" in nd.get("Index Cond", "") for nd in page_plan), ("the page reads its matches by id", page_plan)

    _spy, count, n = await run(big, None)
    assert (count.total, count.exact, n) == (10_000, False, 20)
    spy, count, n = await run(small, "azia")
    assert (count.total, count.exact, n) == (30, True, 20), "a small catalog: the probe counts it all"

    if not trgm:
        pytest.skip("pg_trgm is not available on this server (the embedded one has no contrib): no trigram index")
    # Inside escuta_catalog_matches (EXPLAIN of the caller does not show it): the server's own index counters.
    async with db_pool.acquire() as conn:
        before = await _index_scans(conn)
        async with tenant_connection(conn, big):
            await counter.page_products(conn, big, query="azia", limit=20, offset=0, cursor=None)
        await conn.execute("SELECT pg_stat_force_next_flush()")
        await conn.execute("SELECT 1")  # idle in between: this backend's counters reach the shared view
        after = await _index_scans(conn)
    for index in ("catalog_products_name_trgm", "catalog_products_indications_trgm"):
        assert after[index] > before[index], (index, before, after)


async def test_the_search_function_answers_only_the_current_organization(db_pool: asyncpg.Pool) -> None:
    """escuta_catalog_matches runs as the table's owner (past row-level security): it must scope itself."""
    async with db_pool.acquire() as conn:
        a = await conn.fetchval("INSERT INTO organizations (name) VALUES ('A') RETURNING id")
        b = await conn.fetchval("INSERT INTO organizations (name) VALUES ('B') RETURNING id")
        await _insert(conn, a, [("Omeprazol A", ["azia"])])
        await _insert(conn, b, [("Omeprazol B", ["azia"]), ("Sal de Frutas B", ["azia"])])
        own_b = {r["id"] for r in await conn.fetch("SELECT id FROM catalog_products WHERE org_id = $1", b)}
        public = await conn.fetchval(
            "SELECT count(*) FROM pg_proc, aclexplode(proacl) AS a "
            "WHERE proname = 'escuta_catalog_matches' AND a.grantee = 0"
        )
    assert public == 0, "not executable by PUBLIC"
    sql = "SELECT array_agg(id) FROM escuta_catalog_matches('%azia%', 100) AS id"
    async with tenant_connection(db_pool, b) as conn:
        assert set(await conn.fetchval(sql)) == own_b
        assert len(await conn.fetchval("SELECT array_agg(id) FROM escuta_catalog_matches('%', 1) AS id")) == 1
    async with tenant_connection(db_pool, None) as conn:
        assert await conn.fetchval(sql) is None, "no organization, no rows"
