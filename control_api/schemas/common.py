"""Models and field formats used by more than one router: the error body every 4xx/5xx answers with."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

# Deliberately loose: an e-mail is proven by use, not by a regex (and no extra dependency is needed).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

# An instant as the API has always written it, `datetime.isoformat()` ("2025-03-14T18:05:09.123456+00:00"):
# pydantic's own JSON would write "Z" for UTC instead.
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
# Money and credits travel as decimal strings ("12.90"), never as floats that lose a cent.
DecimalString = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["12.90"]}),
]


class FieldProblem(BaseModel):
    field: str | None = Field(description="The request field at fault (dotted path), if any.")
    problem: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_request`, `not_found`.")
    message: str = Field(description="One human-readable line naming the problem.")
    details: list[FieldProblem] | Any | None = Field(None, description="Per-field problems of a 400, when known.")


class ErrorBody(BaseModel):
    """Every error answer: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for these error statuses, all with the error body."""
    return {code: {"model": ErrorBody, "description": HTTPStatus(code).phrase} for code in codes}
