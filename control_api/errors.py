"""One error shape for every 4xx and 5xx: ``{"error": {"code": ..., "message": ...}}``.

Nothing internal (stack traces, SQL, driver messages) ever reaches a response body; 5xx details go to
the log with a request id the client can quote.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from db.query import InvalidCursor

log = logging.getLogger("escuta.api")


class ApiError(Exception):
    """Raise from a route to answer with a specific status, code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


def _status_code_name(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _describe_validation(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    details = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        details.append({"field": ".".join(loc) or None, "problem": e.get("msg", "invalid")})
    if not details:
        return "invalid request", []
    first = details[0]
    if first["field"]:
        return f"{first['field']}: {first['problem']}", details
    return str(first["problem"]), details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = _describe_validation(exc)
        return JSONResponse(error_body("invalid_request", message, details), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else _status_code_name(exc.status_code)
        return JSONResponse(
            error_body(_status_code_name(exc.status_code), message),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(InvalidCursor)
    async def _cursor(request: Request, exc: InvalidCursor) -> JSONResponse:
        # A list's `cursor` that this list did not issue (another list's, altered, truncated).
        details = [{"field": "cursor", "problem": str(exc)}]
        return JSONResponse(error_body("invalid_request", f"cursor: {exc}", details), status_code=400)

    @app.exception_handler(asyncpg.DataError)
    async def _data(request: Request, exc: asyncpg.DataError) -> JSONResponse:
        # PostgreSQL refused a value the request carried (a NUL byte in text, a number or date out of
        # its range): the client's input, not a server fault. Routes validate what they can first.
        return JSONResponse(
            error_body("invalid_request", f"a value in the request cannot be stored ({type(exc).__name__})"),
            status_code=400,
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.exception("unhandled error on %s %s (ref %s)", request.method, request.url.path, ref)
        return JSONResponse(error_body("internal_error", f"internal error (ref {ref})"), status_code=500)
