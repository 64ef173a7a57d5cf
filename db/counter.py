"""Queries of the counter assistant: the catalog, interactions, recommendations and feedback.

Every function takes a connection already scoped with ``db.tenancy.tenant_connection`` and still
filters by ``org_id`` itself (row-level security is the second line, not the only one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from core.counter.catalog import Product
from core.counter.recommendation import Recommendation
from db.pool import Conn
from db.query import Keyset, Page, SortKey, Where, fetch_page

_COLUMNS = (
    "id, sku, name, active_ingredients, indications, contraindications, warnings, prescription_required, "
    "price, tags, min_age_months, pregnancy, breastfeeding, interactions, created_at, updated_at"
)


def product_from_row(row: asyncpg.Record) -> Product:
    return Product(
        id=str(row["id"]),
        name=row["name"],
        active_ingredients=tuple(row["active_ingredients"]),
        indications=tuple(row["indications"]),
        contraindications=tuple(row["contraindications"]),
        warnings=row["warnings"],
        prescription_required=row["prescription_required"],
        price=row["price"],
        tags=tuple(row["tags"]),
        sku=row["sku"],
        min_age_months=row["min_age_months"],
        pregnancy=row["pregnancy"],
        breastfeeding=row["breastfeeding"],
        interactions=tuple(row["interactions"]),
    )


def _values(p: Product) -> tuple[Any, ...]:
    return (
        p.sku,
        p.name,
        list(p.active_ingredients),
        list(p.indications),
        list(p.contraindications),
        p.warnings,
        p.prescription_required,
        p.price,
        list(p.tags),
        p.min_age_months,
        p.pregnancy,
        p.breastfeeding,
        list(p.interactions),
    )


# Names are unique per organization ignoring case (catalog_products_name): lower(name) alone orders totally.
PRODUCTS = Keyset("catalog_products", (SortKey("lower(name)", "text", row_field="sort_name"),))

# ``total`` counts at most this many matches: an exact count of a million rows reads a million rows
# (220 ms at 1M against 43 ms at 10k, issue 20.1), and nobody pages that far by number. Above it the
# list says "more than the cap" (``exact`` False) and the cursor keeps paging to the end. The list's
# count reads only its index (10,000 entries: ~2 ms); a search's must visit every match in the table
# to recheck it (trigrams are lossy), so it stops sooner: 1,000 matches is no longer a search.
TOTAL_CAP = 10_000
SEARCH_TOTAL_CAP = 1_000
# A search no index narrows (1-2 characters, or punctuation: no trigram) reads products until it has
# counted enough matches, so it counts fewer: at 1 % matching, 1,000 cost ~100k rows read (50 ms at 1M,
# 2-3x its 10k time); 100 cost a tenth of that.
SHORT_SEARCH_TOTAL_CAP = 100


@dataclass(frozen=True)
class ProductCount:
    """How many products match: exact up to the cap; above it ``total`` is the cap and ``exact`` False."""

    total: int
    exact: bool


def _like_pattern(query: str) -> str:
    """``%query%`` for LIKE ... ESCAPE '\\', lower case, with ``%``, ``_`` and ``\\`` literal."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _trigram_searchable(query: str) -> bool:
    """Whether pg_trgm finds a trigram in ``%query%``: a run of 3 letters or digits (its "words")."""
    return any(len(word) >= 3 for word in re.findall(r"[^\W_]+", query))


# A search first reads this many products in name order (~3 ms at 1M): all of a catalog this size or
# smaller, and, when more than the cap of them match, proof enough that the count is capped.
PROBE_ROWS = 1_500
_MATCH = "lower(name) LIKE {0} ESCAPE '\\' OR indications_search LIKE {0} ESCAPE '\\'"


async def _count_matches(
    conn: Conn, org_id: UUID, query: str, where: Where, cap: int, trigrams: bool
) -> tuple[int, list[UUID] | None]:
    """Up to ``cap + 1`` matches of a search, and their ids when the page should read them by id.

    A dense pattern (most products match) is proven capped by the probe; a rare one is counted from
    the trigram indexes through escuta_catalog_matches (row-level security keeps LIKE off the indexes
    of a plain query; migration 0150), and the page then reads those few rows by id, where walking the
    name index for them could read every product. A 1-2 character search has no trigram: it reads the
    organization's products until cap + 1 match (all of them when matches are rare).
    """
    probe = Where().org("org_id", org_id)
    match = _MATCH.format(probe.bind(_like_pattern(query)))
    row = await conn.fetchrow(
        f"SELECT count(*) AS seen, count(*) FILTER (WHERE {match}) AS matched FROM (SELECT name, "
        f"indications_search FROM catalog_products WHERE {probe.sql} ORDER BY lower(name) LIMIT {PROBE_ROWS}) AS p",
        *probe.args,
    )
    assert row is not None  # an aggregate answers one row
    seen, matched = row["seen"], row["matched"]
    if seen < PROBE_ROWS or matched > cap:
        return matched, None
    if trigrams:
        ids: list[UUID] = await conn.fetchval(
            "SELECT coalesce(array_agg(id), '{}') FROM escuta_catalog_matches($1, $2) AS id",
            _like_pattern(query),
            cap + 1,
        )
        return len(ids), ids if len(ids) <= cap else None
    counted: int = await conn.fetchval(
        f"SELECT count(*) FROM (SELECT 1 FROM catalog_products WHERE {where.sql} LIMIT {cap + 1}) AS m", *where.args
    )
    return counted, None


async def page_products(
    conn: Conn, org_id: UUID, *, query: str | None, limit: int, offset: int, cursor: str | None
) -> tuple[Page, ProductCount]:
    """A page of products by name after ``cursor``, and how many match (capped, see :data:`TOTAL_CAP`).

    ``query`` matches a substring of the name or of the indications, ignoring case.
    """
    where = Where().org("org_id", org_id)
    if query:
        trigrams = _trigram_searchable(query)
        cap = SEARCH_TOTAL_CAP if trigrams else SHORT_SEARCH_TOTAL_CAP
        pattern = _like_pattern(query)
        # Written as migration 0150's trigram indexes are built; this condition is what a match is.
        where.raw(_MATCH, pattern)
        # Plan each search for its own pattern: a generic plan (asyncpg's prepared statement after five
        # calls) cannot see how rare it is. For this transaction only (tenant_connection's).
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        counted, ids = await _count_matches(conn, org_id, query, where, cap, trigrams)
        if ids is not None:
            where.raw("id = ANY({0}::uuid[])", ids)
    else:
        # An index-only range of the organization's name index.
        cap = TOTAL_CAP
        counted = await conn.fetchval(
            f"SELECT count(*) FROM (SELECT 1 FROM catalog_products WHERE {where.sql} LIMIT {cap + 1}) AS m",
            *where.args,
        )
    page = await fetch_page(
        conn,
        PRODUCTS,
        select=f"SELECT {_COLUMNS}, lower(name) AS sort_name FROM catalog_products",
        where=where,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return page, ProductCount(min(counted, cap), counted <= cap)


async def get_product(conn: Conn, org_id: UUID, product_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM catalog_products WHERE org_id = $1 AND id = $2", org_id, product_id
    )


async def create_product(conn: Conn, org_id: UUID, p: Product) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        INSERT INTO catalog_products (org_id, sku, name, active_ingredients, indications, contraindications,
                                      warnings, prescription_required, price, tags, min_age_months, pregnancy,
                                      breastfeeding, interactions)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING {_COLUMNS}
        """,
        org_id,
        *_values(p),
    )
    assert row is not None
    return row


async def update_product(conn: Conn, org_id: UUID, product_id: UUID, p: Product) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        UPDATE catalog_products SET sku = $3, name = $4, active_ingredients = $5, indications = $6,
            contraindications = $7, warnings = $8, prescription_required = $9, price = $10, tags = $11,
            min_age_months = $12, pregnancy = $13, breastfeeding = $14, interactions = $15, updated_at = now()
        WHERE org_id = $1 AND id = $2 RETURNING {_COLUMNS}
        """,
        org_id,
        product_id,
        *_values(p),
    )


async def delete_product(conn: Conn, org_id: UUID, product_id: UUID) -> bool:
    status = await conn.execute("DELETE FROM catalog_products WHERE org_id = $1 AND id = $2", org_id, product_id)
    return status == "DELETE 1"


async def upsert_products(conn: Conn, org_id: UUID, products: list[Product]) -> tuple[int, int]:
    """Insert or update by name (case-insensitive), in one batch; returns (created, updated)."""
    if not products:
        return 0, 0
    existing: int = await conn.fetchval(
        "SELECT count(*) FROM catalog_products WHERE org_id = $1 AND lower(name) = ANY($2::text[])",
        org_id,
        [p.name.lower() for p in products],
    )
    await conn.executemany(
        """
        INSERT INTO catalog_products (org_id, sku, name, active_ingredients, indications, contraindications,
                                      warnings, prescription_required, price, tags, min_age_months, pregnancy,
                                      breastfeeding, interactions)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (org_id, lower(name)) DO UPDATE SET
            sku = EXCLUDED.sku, name = EXCLUDED.name, active_ingredients = EXCLUDED.active_ingredients,
            indications = EXCLUDED.indications, contraindications = EXCLUDED.contraindications,
            warnings = EXCLUDED.warnings, prescription_required = EXCLUDED.prescription_required,
            price = EXCLUDED.price, tags = EXCLUDED.tags, min_age_months = EXCLUDED.min_age_months,
            pregnancy = EXCLUDED.pregnancy, breastfeeding = EXCLUDED.breastfeeding,
            interactions = EXCLUDED.interactions, updated_at = now()
        """,
        [(org_id, *_values(p)) for p in products],
    )
    return len(products) - existing, existing


async def load_catalog(conn: Conn, org_id: UUID) -> list[Product]:
    """The organization's catalog as the recommenders use it."""
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM catalog_products WHERE org_id = $1 ORDER BY name", org_id)
    return [product_from_row(r) for r in rows]


# --- interactions, recommendations, feedback ------------------------------------------------------


async def start_interaction(
    conn: Conn,
    org_id: UUID,
    *,
    meeting_id: str,
    device_id: UUID | None,
    room_name: str | None = None,
    atendente: str = "",
) -> UUID:
    """The interaction of this device in this meeting, created on first use."""
    interaction_id: UUID = await conn.fetchval(
        """
        INSERT INTO counter_interactions (org_id, device_id, meeting_id, room_name, atendente)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (meeting_id, device_id) DO UPDATE SET atendente = EXCLUDED.atendente
        RETURNING id
        """,
        org_id,
        device_id,
        meeting_id,
        room_name,
        atendente,
    )
    return interaction_id


async def add_stt_usage(
    conn: Conn, org_id: UUID, interaction_id: UUID, *, seconds: float, provider: str | None
) -> None:
    await conn.execute(
        """
        UPDATE counter_interactions SET stt_seconds = stt_seconds + $3, stt_provider = COALESCE($4, stt_provider)
        WHERE org_id = $1 AND id = $2
        """,
        org_id,
        interaction_id,
        seconds,
        provider,
    )


async def end_interaction(conn: Conn, org_id: UUID, interaction_id: UUID) -> None:
    await conn.execute(
        "UPDATE counter_interactions SET ended_at = now() WHERE org_id = $1 AND id = $2 AND ended_at IS NULL",
        org_id,
        interaction_id,
    )


@dataclass(frozen=True)
class StoredRecommendation:
    id: UUID
    interaction_id: UUID
    atendente: str
    latency_ms: float | None


async def store_recommendation(
    conn: Conn,
    org_id: UUID,
    interaction_id: UUID,
    *,
    event_id: UUID,
    rec: Recommendation,
    atendente: str,
    latency_ms: float | None,
) -> StoredRecommendation:
    # Products from a file catalog (replays, the bench) have no database id: keep the name only.
    try:
        product_id: UUID | None = UUID(rec.product.id)
    except ValueError:
        product_id = None
    await conn.execute(
        """
        INSERT INTO counter_recommendations (id, org_id, interaction_id, product_id, product_name, explanation,
            transcript_excerpt, atendente, provider, model, fallback_reason, latency_ms, prompt_tokens,
            completion_tokens)
        VALUES ($1, $2, $3,
                (SELECT id FROM catalog_products WHERE org_id = $2 AND id = $4), $5, $6, $7, $8, $9, $10, $11,
                $12, $13, $14)
        """,
        event_id,
        org_id,
        interaction_id,
        product_id,
        rec.product.name,
        rec.explanation,
        rec.transcript_excerpt,
        atendente,
        rec.provider,
        rec.model,
        rec.fallback_reason,
        latency_ms,
        rec.prompt_tokens,
        rec.completion_tokens,
    )
    return StoredRecommendation(event_id, interaction_id, atendente, latency_ms)


async def store_feedback(conn: Conn, org_id: UUID, recommendation_id: UUID, *, accepted: bool, source: str) -> bool:
    """Record the clerk's answer; False when no such recommendation exists in this organization."""
    status = await conn.execute(
        """
        INSERT INTO counter_feedback (recommendation_id, org_id, accepted, source)
        SELECT id, org_id, $3, $4 FROM counter_recommendations WHERE org_id = $1 AND id = $2
        ON CONFLICT (recommendation_id) DO UPDATE SET
            accepted = EXCLUDED.accepted, source = EXCLUDED.source, received_at = now()
        """,
        org_id,
        recommendation_id,
        accepted,
        source,
    )
    return status.endswith(" 1")
