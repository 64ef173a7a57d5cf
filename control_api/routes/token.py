"""`POST /token` (seed 003's contract): a LiveKit access token for ``{solution}-{clientId}-{userId}``.

Seed 003's client posts to the service's root URL, so `POST /` answers exactly like `/token`.
Unlike the seed, minting needs a credential (device key, user access token, or a publishable key from
an allowed origin) and ``clientId`` must name the caller's own organization: its external client id
(`PUT /organization/client-id`, e.g. ``"123"``) or its UUID. The server alone decides the grants:
join/publish/subscribe/data in that one room, a short TTL, never room admin or hidden. The token's
room configuration dispatches the Escuta agent with ``{"profile","org_id","solution"}``.

The answer's `url` is `ESCUTA_LIVEKIT_PUBLIC_URL`, or `LIVEKIT_URL` when that is unset (local
development); an avatar solution needs a public one (503 `livekit_url_not_public` otherwise, like `/new`).

The hot path avoids the database: keys are cached (control_api/principals.py), and solutions, client
ids and the room registry are cached for a few seconds (control_api/services/rooms.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from control_api.errors import ApiError
from control_api.fast_route import FastRoute
from control_api.principals import client_address, get_principal, limiter, rate_limited
from control_api.schemas.common import errors
from control_api.schemas.token import TOKEN_REQUEST_BODY, TokenAnswer
from control_api.services import rooms
from control_api.services.credits import require_avatar_credit
from control_api.services.livekit_url import require_public_livekit_url
from control_api.services.tokens import TokenBody, mint
from core.naming import room_name, room_too_long
from core.security.ratelimit import RateLimited
from core.settings import Settings
from db.credits import AVATAR_PROFILE

router = APIRouter(tags=["token"])


async def _body(request: Request) -> TokenBody:
    try:
        return TokenBody.model_validate_json(await request.body())
    except ValidationError as exc:
        # The API's usual 400 naming the field (control_api/errors.py formats it).
        raise RequestValidationError(exc.errors(include_url=False)) from None


_OPENAPI: dict[str, Any] = {
    # Read by hand below, so declared here: the body, and the credentials `get_principal` accepts.
    "response_model": TokenAnswer,
    "responses": errors(402, 404, 409, 429),
    "openapi_extra": {"requestBody": TOKEN_REQUEST_BODY, "security": [{"apiKey": []}, {"accessToken": []}]},
}


@router.post("/token", **_OPENAPI)
async def token(request: Request) -> Response:
    # No FastAPI dependencies or body field on the hottest route: the credential, the body, the settings
    # and the pool are taken by hand, which saves a measurable share of each request's CPU.
    principal = await get_principal(request)
    body = await _body(request)
    state = request.app.state
    settings: Settings = state.settings
    pool = state.pool
    rl = limiter(request)
    try:
        rl.hit_all(
            settings.rate_limit.token, ("token:subject", principal.subject), ("token:source", client_address(request))
        )
    except RateLimited as exc:
        raise rate_limited(exc) from None
    if not await rooms.is_own_client_id(state, pool, principal.org_id, body.clientId):
        raise ApiError(403, "forbidden", "clientId is not the caller's organization")
    profile = await rooms.solution_profile(state, pool, principal.org_id, body.solution)
    if profile is None:
        raise ApiError(404, "unknown_solution", f"solution {body.solution!r} is not configured for this organization")
    room = room_name(body.solution, body.clientId, body.userId)
    if room_too_long(room):
        raise ApiError(400, "invalid_request", "userId: the room name would exceed LiveKit's 256 bytes")
    if profile == AVATAR_PROFILE:  # issue 10: a new avatar session needs credit (402 otherwise)
        await require_public_livekit_url(request.app.state, settings)  # issue 21: and a public LiveKit URL
        # No LiveAvatar-key check here (unlike `GET /new`): a room minted here is told why inside it.
        await require_avatar_credit(pool, principal.org_id)
    await rooms.register_room(state, pool, principal.org_id, room, body.solution, profile)
    signed = mint(settings, principal, body, room, profile)
    # Serialized here rather than by FastAPI's response validation: the model is built once, and its JSON
    # encoder is faster than the json module on this hottest route.
    answer = TokenAnswer(
        token=signed, room=room, identity=room, apiKey=settings.livekit.api_key, url=settings.livekit.frontend_url()
    )
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post("/", operation_id="token_at_root", summary="Token (seed 003's root URL)", **_OPENAPI)
async def token_at_root(request: Request) -> Response:
    """Seed 003's clients post to the service's root URL: the same body, credential and answer as `/token`."""
    return await token(request)


# Mounted ahead of every FastAPI route by create_app (the hot path skips FastAPI's per-request machinery);
# the routes above document them and run the same code.
fast_routes = [FastRoute("/token", token, methods=["POST"]), FastRoute("/", token, methods=["POST"])]
