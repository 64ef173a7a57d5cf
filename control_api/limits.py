"""Request body limits (issue 14.4), enforced while the body arrives.

Every HTTP request has a body limit: small for the JSON routes (`ESCUTA_API_MAX_BODY_BYTES`), larger for
the few routes that carry files (`route_limits`). A `Content-Length` above the limit is answered 413 at
once, before the route runs or a byte of the body is read; a body without one (chunked) is counted as
it is received and refused the moment it passes the limit, so the process never holds more than the
limit (plus one network chunk) of any request. The 413 names the limit and closes the connection (the
rest of the body is never read).

WebSocket messages are limited where the socket is served: uvicorn's `ws_max_size` for `/ws` and
Socket.IO's `max_http_buffer_size` (see `escuta api` and control_api/routes/coach_socket.py).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control_api.errors import BodyTooLarge, error_body
from core.settings import Settings


def route_limits(settings: Settings) -> dict[tuple[str, str], int]:
    """(method, path) -> largest body, for the routes that need more than the JSON default."""
    api = settings.api
    return {
        ("POST", "/catalog/import"): api.max_csv_bytes,
        ("POST", "/stt"): api.max_audio_bytes,
        ("POST", "/livekit/webhook"): api.max_webhook_bytes,
        # Instructions of up to 20,000 characters: JSON escapes can take 6 bytes for one accented letter.
        ("PUT", "/avatar/config"): max(api.max_body_bytes, 256 * 1024),
    }


def server_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn options for the limits the server itself enforces (`escuta api`, and the tests' servers)."""
    # A WebSocket message (a `/ws` frame) larger than this closes the socket with 1009 before it is buffered.
    return {"ws_max_size": settings.api.ws_max_message_bytes}


def _declared_length(scope: Scope) -> tuple[int | None, bool]:
    """(the declared Content-Length, and whether the body is framed by it alone: no Transfer-Encoding)."""
    length: int | None = None
    framed = True
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return None, False  # the server (h11/httptools) refuses a malformed one before we run
        elif name == b"transfer-encoding":
            framed = False
    return length, framed and length is not None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, default: int, routes: dict[tuple[str, str], int]) -> None:
        self.app = app
        self.default = default
        self.routes = routes

    def limit_for(self, method: str, path: str) -> int:
        return self.routes.get((method, path.rstrip("/") or "/"), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared, framed = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, BodyTooLarge(limit))
            return
        if framed:
            # The server's HTTP parser delivers exactly the declared length and no more: nothing to count
            # (a wrapper on every read was a measurable share of `/token`'s CPU, issue 20.4).
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route's read: the app's handler answers 413 (control_api/errors.py).
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


async def _refuse(send: Send, exc: BodyTooLarge) -> None:
    body = json.dumps(error_body("payload_too_large", exc.detail)).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": 413, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
