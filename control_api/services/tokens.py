"""Minting LiveKit access tokens: the room grants, the participant's identity fields, the agent dispatch.

Shared by `POST /token` (seed 003) and `GET /new` (seed 000): both mint the same token for a room of one
of the caller's organization's solutions. The server alone decides the grants: join/publish/subscribe/data
in that one room, a short TTL, never room admin or hidden.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from functools import lru_cache
from typing import Any
from uuid import UUID

from pydantic import Field

from control_api.principals import Principal
from control_api.schemas.formats import RequestBody
from core.naming import MAX_SOLUTION, MAX_USER_ID, NAME_PATTERN
from core.settings import Settings


class TokenBody(RequestBody):
    """Seed 003's body. Names as the seed allows them (``"Ai-Helper"``, ``"Daniel Silva"``); only what a
    LiveKit room name cannot carry is refused (core/naming.py)."""

    solution: str = Field(min_length=1, max_length=MAX_SOLUTION, pattern=NAME_PATTERN)
    clientId: str = Field(
        min_length=1,
        max_length=64,
        description="The organization's client id (`PUT /organization/client-id`, e.g. `123`) or its UUID.",
    )
    userId: str = Field(min_length=1, max_length=MAX_USER_ID, pattern=NAME_PATTERN)


def participant_fields(
    principal: Principal, user_id: str, solution: str, extra: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Metadata and attributes the agents read: who this participant is, decided by the credential."""
    attributes = {
        "escuta.org_id": str(principal.org_id),
        "escuta.solution": solution,
        "escuta.principal": principal.kind,
    }
    if principal.kind == "user":
        # An authenticated member of the organization hosts (seed 002: hosts get no feedback on themselves).
        metadata: dict[str, Any] = {"roles": ["host"], "name": user_id}
        attributes["escuta.role"] = "host"
    elif principal.kind == "device":
        metadata = {"roles": ["device"], "name": user_id, "deviceId": str(principal.device_id)}
        attributes["escuta.role"] = "device"
        attributes["escuta.device_id"] = str(principal.device_id)
    else:
        metadata = {"roles": ["guest"], "name": user_id}
        attributes["escuta.role"] = "guest"
    attributes.update(extra or {})
    return metadata, attributes


def mint(
    settings: Settings,
    principal: Principal,
    body: TokenBody,
    room: str,
    profile: str,
    *,
    name: str | None = None,
    attributes: dict[str, str] | None = None,
) -> str:
    """The LiveKit JWT, with exactly the claims livekit-api's ``AccessToken`` would write.

    Built directly because ``AccessToken.to_jwt`` spends most of its time in ``dataclasses.asdict``;
    tests/accounts/test_token.py checks claim-for-claim equality with ``AccessToken``'s output.
    """
    shown = name or body.userId
    metadata, attrs = participant_fields(principal, shown, body.solution, attributes)
    now = int(time.time())
    claims: dict[str, Any] = {
        "name": shown,
        "metadata": _compact(metadata),
        "video": {
            "roomJoin": True,
            "room": room,
            "canPublish": True,
            "canSubscribe": True,
            "canPublishData": True,
            "canUpdateOwnMetadata": False,
        },
        "attributes": attrs,
        "sub": room,
        "iss": settings.livekit.api_key,
        "nbf": now,
        "exp": now + settings.livekit.token_ttl,
    }
    if settings.worker.agent_name:
        dispatch = _dispatch_metadata(profile, principal.org_id, body.solution)
        claims["roomConfig"] = {"agents": [{"agentName": settings.worker.agent_name, "metadata": dispatch}]}
    return sign_hs256(claims, settings.livekit.api_secret.get_secret_value())


@lru_cache(maxsize=4096)
def _dispatch_metadata(profile: str, org_id: UUID, solution: str) -> str:
    """The agent dispatch's metadata: the same few strings for every token of a solution."""
    return _spaced({"profile": profile, "org_id": str(org_id), "solution": solution})


# json.dumps builds a new encoder on every call with non-default arguments: these are built once.
_compact = json.JSONEncoder(separators=(",", ":")).encode
_spaced = json.JSONEncoder().encode  # json.dumps' default separators, as the dispatch metadata always had

_JWT_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


def sign_hs256(claims: dict[str, Any], secret: str) -> str:
    """A compact HS256 JWT (RFC 7519), what PyJWT writes, minus its per-call key checks."""
    payload = base64.urlsafe_b64encode(_compact(claims).encode()).rstrip(b"=")
    signing_input = _JWT_HEADER + b"." + payload
    signature = base64.urlsafe_b64encode(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature.rstrip(b"=")).decode("ascii")
