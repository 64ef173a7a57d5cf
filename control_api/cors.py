"""CORS for the API: Starlette's middleware, with a lean path for requests that carry no ``Origin``.

Most traffic on the hot routes (devices minting tokens, LiveKit posting webhooks) is not from a browser
and has no ``Origin`` header. Starlette's middleware still wraps every response to add ``Vary: Origin``
through a MutableHeaders object, a few microseconds per request (issue 20.4); for those requests this
adds the same ``Vary: Origin`` as a raw header and leaves everything else to Starlette.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_VARY = (b"vary", b"Origin")


class LeanCORSMiddleware:
    def __init__(self, app: ASGIApp, /, **options: Any) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await self.cors(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append(_VARY)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_vary)
