"""A small, safe builder for list queries: WHERE clauses from the filters given, keyset pages.

Why not ``($1 IS NULL OR col = $1)``: asyncpg prepares each statement once per connection and
PostgreSQL switches a prepared statement to a generic plan after five calls; a generic plan cannot
know which optional filters are null, so it plans for the worst and scans. Building the clause from
the filters actually given yields one statement text per filter combination, each with a plan that
uses its index. Values are always bound parameters (``$n``); only column names (identifiers written
in code, checked against a pattern) are pasted into the SQL.

Keyset pagination ("seek"): a page after a cursor is ``WHERE (sort key) after (last row's key)``,
which an index on the sort key answers by reading only the page, however deep, where ``OFFSET``
reads and discards every earlier row. The cursor is opaque to clients (base64url JSON of the last
row's key and the list it belongs to); it carries no authority: a query is always scoped to the
caller's organization, so a forged cursor can only move within rows the caller may read anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from db.pool import Conn

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
# A sort expression is a column or lower(column) (catalog names sort case-insensitively).
_EXPR = re.compile(r"^([a-z_][a-z0-9_.]*|lower\([a-z_][a-z0-9_.]*\))$")

KeyType = Literal["timestamptz", "text", "uuid", "bigint"]
# The "limit" of lists that answered every row before they had pages (a few dozen rows in practice).
ALL = 10_000


class InvalidCursor(ValueError):
    """A cursor that this list did not issue (or that was altered)."""


def _ident(name: str, pattern: re.Pattern[str] = _IDENT) -> str:
    if not pattern.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


@dataclass
class Where:
    """``AND``-ed conditions with their bound values; ``$n`` numbers follow the order of ``args``."""

    args: list[Any] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)

    def bind(self, value: Any) -> str:
        """Add a value and return its placeholder."""
        self.args.append(value)
        return f"${len(self.args)}"

    def eq(self, column: str, value: Any, *, cast: str | None = None) -> Where:
        """``column = value``; nothing when value is None (an optional filter not given)."""
        if value is not None:
            p = self.bind(value)
            self.clauses.append(f"{_ident(column)} = {p}" + (f"::{_ident(cast)}" if cast else ""))
        return self

    def org(self, column: str, org_id: UUID | None) -> Where:
        """The tenant predicate: ``column = org`` or, for the platform's view (None), ``column IS NULL``.

        Both forms use a btree index whose first column is ``column``; ``IS NOT DISTINCT FROM`` uses none.
        """
        if org_id is None:
            self.clauses.append(f"{_ident(column)} IS NULL")
        else:
            self.clauses.append(f"{_ident(column)} = {self.bind(org_id)}")
        return self

    def raw(self, sql: str, *values: Any) -> Where:
        """A condition written in code with ``{}`` where each value's placeholder goes."""
        self.clauses.append(sql.format(*(self.bind(v) for v in values)))
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) if self.clauses else "TRUE"


@dataclass(frozen=True)
class SortKey:
    """One column of a list's sort order; the last key must make the order total (unique per row)."""

    expr: str  # SQL expression: a column or lower(column)
    type: KeyType
    descending: bool = False
    row_field: str | None = None  # the record's field holding this key (default: the column's name)

    def field(self) -> str:
        if self.row_field:
            return self.row_field
        name = self.expr.removeprefix("lower(").removesuffix(")")
        return name.rsplit(".", 1)[-1]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _decode_value(value: Any, kind: KeyType) -> Any:
    if kind == "timestamptz":
        if not isinstance(value, str):
            raise InvalidCursor("bad timestamp")
        at = datetime.fromisoformat(value)
        if at.tzinfo is None:
            raise InvalidCursor("bad timestamp")
        return at
    if kind == "uuid":
        return UUID(str(value))
    if kind == "bigint":
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidCursor("bad integer")
        return value
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidCursor("bad text")
    return value


@dataclass(frozen=True)
class Keyset:
    """A list's total sort order, and the cursors that resume it."""

    name: str  # which list a cursor belongs to: a sessions cursor is refused by the products list
    keys: tuple[SortKey, ...]

    def order_by(self) -> str:
        return ", ".join(f"{_ident(k.expr, _EXPR)}{' DESC' if k.descending else ''}" for k in self.keys)

    def encode(self, row: Mapping[str, Any]) -> str:
        """The cursor of the page that follows ``row`` (the last row of a page)."""
        body = {"l": self.name, "k": [_encode_value(row[k.field()]) for k in self.keys]}
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            body = json.loads(raw)
            if not isinstance(body, dict) or body.get("l") != self.name:
                raise InvalidCursor("this cursor belongs to another list")
            values = body["k"]
            if not isinstance(values, list) or len(values) != len(self.keys):
                raise InvalidCursor("wrong number of keys")
            return [_decode_value(v, k.type) for v, k in zip(values, self.keys, strict=True)]
        except InvalidCursor:
            raise
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise InvalidCursor("not a cursor of this list") from exc

    def after(self, where: Where, cursor: str | None) -> Where:
        """Add ``rows after the cursor's row`` in this order (nothing without a cursor).

        Mixed directions rule out a row comparison, so the condition is the expanded form
        ``k1 > v1 OR (k1 = v1 AND (k2 > v2 OR ...))``, with ``k1 >= v1`` in front: that one is an
        index condition, so the scan starts at the cursor instead of filtering from the first row.
        """
        if cursor is None:
            return where
        values = self.decode(cursor)
        params = [f"{where.bind(v)}::{k.type}" for v, k in zip(values, self.keys, strict=True)]
        exprs = [_ident(k.expr, _EXPR) for k in self.keys]
        ops = ["<" if k.descending else ">" for k in self.keys]
        tail = f"{exprs[-1]} {ops[-1]} {params[-1]}"
        for e, op, p in zip(reversed(exprs[:-1]), reversed(ops[:-1]), reversed(params[:-1]), strict=True):
            tail = f"{e} {op} {p} OR ({e} = {p} AND ({tail}))"
        where.clauses.append(f"{exprs[0]} {ops[0]}= {params[0]}")
        where.clauses.append(tail)
        return where


@dataclass(frozen=True)
class Page:
    """A page of rows and the cursor of the next one (None: this was the last page)."""

    rows: list[Any]
    next_cursor: str | None


def select_page(
    keyset: Keyset, *, select: str, where: Where, limit: int, offset: int = 0, cursor: str | None = None
) -> tuple[str, list[Any]]:
    """``select`` (``SELECT ... FROM ...``) + WHERE + the keyset's order, one row more than ``limit``.

    The extra row says whether a next page exists without a count.
    """
    keyset.after(where, cursor)
    limit_p = where.bind(limit + 1)
    sql = f"{select} WHERE {where.sql} ORDER BY {keyset.order_by()} LIMIT {limit_p}"
    if offset:
        sql += f" OFFSET {where.bind(offset)}"
    return sql, where.args


def page_of(keyset: Keyset, rows: Sequence[Any], limit: int) -> Page:
    if len(rows) > limit:
        kept = list(rows[:limit])
        return Page(kept, keyset.encode(kept[-1]))
    return Page(list(rows), None)


async def fetch_page(
    conn: Conn,
    keyset: Keyset,
    *,
    select: str,
    where: Where,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
) -> Page:
    """Run :func:`select_page` on ``conn`` and split off the next page's cursor."""
    sql, args = select_page(keyset, select=select, where=where, limit=limit, offset=offset, cursor=cursor)
    return page_of(keyset, await conn.fetch(sql, *args), limit)


def org_match(column: str, param: str, org_id: UUID | None) -> str:
    """The tenant predicate for a statement written by hand, whose ``param`` holds ``org_id``.

    ``column = $n`` for a tenant, ``column IS NULL`` for the platform's view (None); the parameter is
    still referenced (``$n::uuid IS NULL``) so the statement's arguments stay the same in both forms.
    """
    if not re.match(r"^\$[0-9]+$", param):
        raise ValueError(f"not a placeholder: {param!r}")
    if org_id is None:
        return f"{_ident(column)} IS NULL AND {param}::uuid IS NULL"
    return f"{_ident(column)} = {param}"
