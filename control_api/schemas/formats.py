"""Field formats of the answers: timestamps as the API has always written them, and paging bounds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema


def _iso(value: datetime) -> str:
    return value.isoformat()


# `datetime.isoformat()` (``2025-01-31T12:00:00.123456+00:00``), exactly what the routes wrote by hand before
# they had models: pydantic's own JSON form would write ``Z`` for UTC, a change clients would see.
Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

# `offset` reaches PostgreSQL as a bigint: an unbounded one overflows it (a 500, before this bound). Paging
# two billion rows deep is no real use, and the bound keeps the value in range of any integer column.
MAX_OFFSET = 2_147_483_647
