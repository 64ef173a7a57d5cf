"""Field formats: timestamps as the API has always written them, paging bounds, text PostgreSQL can store."""

from __future__ import annotations

from datetime import datetime
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


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _refuse_nul(value: Any) -> Any:
    if _has_nul(value):
        raise ValueError(NUL_MESSAGE)
    return value


# For path and query parameters: `Annotated[str, Query(...), NoNul]`.
NoNul = AfterValidator(_refuse_nul)


class RequestBody(BaseModel):
    """A JSON request body whose text fields (and lists of text) hold no NUL character.

    Except a ``password``: only its hash is stored, and a password accepted before must keep working.
    """

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        return value if info.field_name == "password" else _refuse_nul(value)
