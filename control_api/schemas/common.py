"""Models and field formats used by more than one router: the error body every 4xx/5xx answers with."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, Field

from control_api.schemas.formats import DecimalString, Timestamp

# Deliberately loose: an e-mail is proven by use, not by a regex (and no extra dependency is needed).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class FieldProblem(BaseModel):
    field: str | None = Field(description="The request field at fault (dotted path), if any.")
    problem: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_request`, `not_found`.")
    message: str = Field(description="One human-readable line naming the problem.")
    details: list[FieldProblem] | Any | None = Field(None, description="Per-field problems of a 400, when known.")
    reference: str | None = Field(
        None, description="On a 500 or 503: the id the server's log line carries, to quote when reporting it."
    )


class ErrorBody(BaseModel):
    """Every error answer: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for these error statuses, all with the error body."""
    return {code: {"model": ErrorBody, "description": HTTPStatus(code).phrase} for code in codes}


__all__ = ["EMAIL_PATTERN", "DecimalString", "ErrorBody", "ErrorDetail", "FieldProblem", "Timestamp", "errors"]
