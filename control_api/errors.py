"""One error shape for every 4xx and 5xx: ``{"error": {"code": ..., "message": ...}}``.

Nothing internal (stack traces, SQL, driver messages) ever reaches a response body; 5xx details go to
the log with a reference id the client can quote.

An exception no handler took is answered by `UnexpectedErrors`, the innermost middleware, so it never
reaches Starlette's `ServerErrorMiddleware` (which re-raised it to uvicorn: a second full traceback per
500). It logs one line with the reference id, and the traceback only the first time that failure (its
type and the line that raised it) is seen by this process. A database that cannot be reached is not a
server bug: asyncpg's connection failures and timeouts answer 503 with `Retry-After`, logged as one line.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from types import TracebackType
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class BodyTooLarge(StarletteHTTPException):
    """A request body over its route's limit (control_api/limits.py), raised while the body is read.

    An HTTPException so that FastAPI's body parsing lets it through unchanged (it turns other errors
    raised while reading into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than this route's limit of {limit} bytes")
        self.limit = limit


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
        headers = exc.headers
        if exc.status == 503 and not any(h.lower() == "retry-after" for h in headers or {}):
            headers = {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = _describe_validation(exc)
        return JSONResponse(error_body("invalid_request", message, details), status_code=400)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        # The rest of the body is never read: the connection closes after the answer.
        return JSONResponse(
            error_body("payload_too_large", exc.detail), status_code=413, headers={"connection": "close"}
        )

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
        # Reached only by a failure outside the routes (an outer middleware): `UnexpectedErrors` takes the rest.
        return failure_response(exc, request.method, request.url.path)

    app.add_middleware(UnexpectedErrors)


# Seconds a client should wait before retrying when the database is unreachable.
RETRY_AFTER_SECONDS = 5

# asyncpg's "could not talk to the server" errors; OSError and TimeoutError count only when raised inside asyncpg.
_DB_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection does not exist, failure, rejected
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.InterfaceError,  # "connection is closed", "pool is closing"
)


def _raised_in_asyncpg(tb: TracebackType | None) -> bool:
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith("asyncpg"):
            return True
        tb = tb.tb_next
    return False


def database_unreachable(exc: BaseException) -> bool:
    """The database could not be reached or did not answer in time (a 503), as opposed to a bug (a 500)."""
    if isinstance(exc, _DB_CONNECTION_ERRORS):
        return True
    if isinstance(exc, OSError | TimeoutError):
        return _raised_in_asyncpg(exc.__traceback__)
    return False


# Failures whose traceback this process has logged already: (type, file, line). Bounded, as a log guard.
_SEEN: set[tuple[str, str, int]] = set()
_SEEN_MAX = 512


def _signature(exc: BaseException) -> tuple[str, str, int]:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb is not None else ("?", 0)
    return (type(exc).__qualname__, *where)


def failure_response(exc: BaseException, method: str, path: str) -> JSONResponse:
    """Log an unexpected failure once (one line, a reference id) and answer 503 or 500 with that id."""
    ref = uuid.uuid4().hex[:12]
    if database_unreachable(exc):
        log.warning("database unreachable on %s %s: %s (ref %s)", method, path, type(exc).__name__, ref)
        body = error_body("database_unavailable", f"the database is unreachable; retry later (ref {ref})")
        body["error"]["reference"] = ref
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    signature = _signature(exc)
    first = signature not in _SEEN
    if first and len(_SEEN) < _SEEN_MAX:
        _SEEN.add(signature)
    log.error(
        "unhandled %s on %s %s (ref %s)%s",
        type(exc).__name__,
        method,
        path,
        ref,
        "" if first else " [traceback logged before]",
        exc_info=exc if first else None,
    )
    body = error_body("internal_error", f"internal error (ref {ref})")
    body["error"]["reference"] = ref
    return JSONResponse(body, status_code=500)


class UnexpectedErrors:
    """Innermost middleware: turns an exception no handler took into the JSON answer of `failure_response`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            route = str(getattr(scope.get("route"), "path", None) or scope.get("path", ""))
            response = failure_response(exc, str(scope.get("method", "")), route)
            if started:  # the answer is half sent: nothing more can be said to this client
                return
            await response(scope, receive, send)
