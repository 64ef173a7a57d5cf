"""The server's shared state, handed to every route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web
from livekit import api
from livekit.api.access_token import Claims

from .rooms import Rooms

if TYPE_CHECKING:
    from .dispatch import AgentDispatcher
    from .webhooks import WebhookSender


@dataclass
class SimContext:
    api_key: str
    api_secret: str
    rooms: Rooms
    dispatcher: AgentDispatcher
    webhooks: WebhookSender
    verifier: api.TokenVerifier = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = api.TokenVerifier(self.api_key, self.api_secret)


CTX = web.AppKey("livekit_sim", SimContext)


class AuthError(Exception):
    """A token that LiveKit would refuse (HTTP 401)."""


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query.get("access_token", "")


def verify(ctx: SimContext, token: str) -> Claims:
    if not token:
        raise AuthError("no authorization token provided")
    try:
        return ctx.verifier.verify(token)
    except Exception as exc:  # PyJWT's errors: bad signature, wrong issuer (key), expired, malformed
        raise AuthError(f"invalid token: {exc}") from None
