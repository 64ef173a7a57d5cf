"""Field formats: timestamps as the API has always written them, paging bounds, text PostgreSQL can store."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, BaseModel, PlainSerializer, ValidationInfo, WithJsonSchema, field_validator


def _iso(value: datetime) -> str:
    return value.isoformat()


# `datetime.isoformat()` (``2025-01-31T12:00:00.123456+00:00``), exactly what the routes wrote by hand before
# they had models: pydantic's own JSON form would write ``Z`` for UTC, a change clients would see.
Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

# Money and credits travel as decimal strings ("12.90"), never as floats that lose a cent.
DecimalString = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["12.90"]}),
]

# `offset` reaches PostgreSQL as a bigint: an unbounded one overflows it (a 500, before this bound). Paging
# two billion rows deep is no real use, and the bound keeps the value in range of any integer column.
MAX_OFFSET = 2_147_483_647

# Keyset paging (db/query.py): the `nextCursor` of the previous page, opaque to clients. Base64url text only.
CURSOR_DESCRIPTION = (
    "The previous page's `nextCursor`: the page after it, in the same order (read only the page, however deep; "
    "rows added meanwhile are neither skipped nor repeated). Combine with `limit`, not `offset`."
)
NEXT_CURSOR_DESCRIPTION = "Pass as `cursor` for the next page; null on the last page."
PAGE_LIMIT_DESCRIPTION = "Rows per page (with `cursor` for the next); without it, every row as before."
PageLimit = Annotated[int | None, Query(ge=1, le=500, description=PAGE_LIMIT_DESCRIPTION)]
CursorQuery = Annotated[str | None, Query(max_length=1024, pattern=r"^[A-Za-z0-9_-]+$", description=CURSOR_DESCRIPTION)]

# PostgreSQL text cannot hold a NUL character: refused at the edge with the field's name, rather than by the
# database (which control_api/errors.py also turns into a 400, without naming the field).
NUL_MESSAGE = "must not contain a NUL character"


# The widest integer column PostgreSQL has (bigint): an integer beyond it cannot be stored anywhere.
INT8_MIN, INT8_MAX = -(2**63), 2**63 - 1
RANGE_MESSAGE = "out of range"


def _unstorable(value: Any) -> str | None:
    """Why PostgreSQL would refuse ``value`` (or a string, list or dict inside it), or None."""
    if isinstance(value, str):
        return NUL_MESSAGE if "\x00" in value else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT8_MIN <= value <= INT8_MAX else RANGE_MESSAGE
    if isinstance(value, datetime):
        # 0001-01-01T00:00+01:00 is before year 1 in UTC, where asyncpg converts it (OverflowError: a 500).
        if value.tzinfo is not None:
            try:
                value.astimezone(UTC)
            except OverflowError:
                return RANGE_MESSAGE
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return next((p for p in map(_unstorable, value) if p is not None), None)
    if isinstance(value, dict):
        return next((p for p in map(_unstorable, [*value.keys(), *value.values()]) if p is not None), None)
    if isinstance(value, BaseModel) and not isinstance(value, RequestBody):  # a RequestBody checked itself
        return next((p for p in map(_unstorable, value.__dict__.values()) if p is not None), None)
    return None


def _refuse_nul(value: Any) -> Any:
    problem = _unstorable(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# For path and query parameters: `Annotated[str, Query(...), NoNul]`.
NoNul = AfterValidator(_refuse_nul)


class RequestBody(BaseModel):
    """A JSON request body PostgreSQL can store: no NUL character in any text (nested lists, objects and
    models included), no integer beyond bigint, no time outside the years 1 to 9999 once in UTC.

    Except a ``password``: only its hash is stored, and a password accepted before must keep working.
    """

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        return value if info.field_name == "password" else _refuse_nul(value)
