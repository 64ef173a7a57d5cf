"""`POST /token` (seed 003's contract): a LiveKit access token for ``{solution}-{clientId}-{userId}``.

Unlike the seed, minting needs a credential (device key, user access token, or a publishable key from
an allowed origin) and ``clientId`` must be the caller's own organization. The server alone decides
the grants: join/publish/subscribe/data in that one room, a short TTL, never room admin or hidden.
The token's room configuration dispatches the Escuta agent with ``{"profile","org_id","solution"}``.

The answer's `url` is `ESCUTA_LIVEKIT_PUBLIC_URL`, or `LIVEKIT_URL` when that is unset (local
development); an avatar solution needs a public one (503 `livekit_url_not_public` otherwise, like `/new`).

The hot path avoids the database: keys are cached (control_api/principals.py), and solutions and the
room registry are cached here for a few seconds; only a room's first mint writes its registry row.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from control_api.deps import Principal
from control_api.errors import ApiError
from control_api.principals import CACHE_MAX_ENTRIES, client_address, get_principal, limiter, rate_limited
from control_api.schemas.common import errors
from control_api.schemas.token import TOKEN_REQUEST_BODY, TokenAnswer
from control_api.services.credits import require_avatar_credit
from control_api.services.livekit_url import require_public_livekit_url
from control_api.services.tokens import TokenBody, mint
from core.security.ratelimit import RateLimited
from core.settings import Settings
from db import solutions as repo
from db.credits import AVATAR_PROFILE
from db.tenancy import tenant_connection

router = APIRouter(tags=["token"])
SOLUTION_CACHE_SECONDS = 5.0  # a changed profile reaches new tokens within this
ROOM_REGISTRY_REFRESH = 60.0  # last_minted_at resolution per room


def _cache(request: Request, name: str) -> dict[Any, Any]:
    state = request.app.state
    cache: dict[Any, Any] | None = getattr(state, name, None)
    if cache is None:
        cache = {}
        setattr(state, name, cache)
    return cache


async def _profile(request: Request, pool: Any, principal: Principal, solution: str) -> str | None:
    cache = _cache(request, "solution_cache")
    key = (principal.org_id, solution)
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < SOLUTION_CACHE_SECONDS:
        return hit[1]  # type: ignore[no-any-return]
    async with tenant_connection(pool, principal.org_id) as conn:
        found = await repo.get_solution(conn, principal.org_id, solution)
    profile = found["profile"] if found else None
    if len(cache) >= CACHE_MAX_ENTRIES:
        cache.clear()
    cache[key] = (now, profile)
    return profile


async def _body(request: Request) -> TokenBody:
    try:
        return TokenBody.model_validate_json(await request.body())
    except ValidationError as exc:
        # The API's usual 400 naming the field (control_api/errors.py formats it).
        raise RequestValidationError(exc.errors(include_url=False)) from None


@router.post(
    "/token",
    response_model=TokenAnswer,
    responses=errors(402, 404, 429),
    # Read by hand below, so declared here: the body, and the credentials `get_principal` accepts.
    openapi_extra={"requestBody": TOKEN_REQUEST_BODY, "security": [{"apiKey": []}, {"accessToken": []}]},
)
async def token(request: Request) -> Response:
    # No FastAPI dependencies or body field on the hottest route: the credential, the body, the settings
    # and the pool are taken by hand, which saves a measurable share of each request's CPU.
    principal = await get_principal(request)
    body = await _body(request)
    settings: Settings = request.app.state.settings
    pool = request.app.state.pool
    rl = limiter(request)
    try:
        rl.hit(settings.rate_limit.token, "token:subject", principal.subject)
        rl.hit(settings.rate_limit.token, "token:source", client_address(request))
    except RateLimited as exc:
        raise rate_limited(exc) from None
    if body.clientId != str(principal.org_id):
        raise ApiError(403, "forbidden", "clientId is not the caller's organization")
    profile = await _profile(request, pool, principal, body.solution)
    if profile is None:
        raise ApiError(404, "unknown_solution", f"solution {body.solution!r} is not configured for this organization")
    if profile == AVATAR_PROFILE:  # issue 10: a new avatar session needs credit (402 otherwise)
        await require_public_livekit_url(request.app.state, settings)  # issue 21: and a public LiveKit URL
        await require_avatar_credit(pool, principal.org_id)
    room = f"{body.solution}-{body.clientId}-{body.userId}"
    registered = _cache(request, "room_registry_cache")
    now = time.monotonic()
    if now - registered.get(room, -ROOM_REGISTRY_REFRESH) >= ROOM_REGISTRY_REFRESH:
        async with tenant_connection(pool, principal.org_id) as conn:
            await repo.register_room(conn, principal.org_id, room, body.solution, profile)
        if len(registered) >= CACHE_MAX_ENTRIES:
            registered.clear()  # bounded memory; a cleared room is just re-registered on its next mint
        registered[room] = now
    signed = mint(settings, principal, body, room, profile)
    # Serialized here rather than by FastAPI's response validation: the model is built once, and its JSON
    # encoder is faster than the json module on this hottest route.
    answer = TokenAnswer(
        token=signed, room=room, identity=room, apiKey=settings.livekit.api_key, url=settings.livekit.frontend_url()
    )
    return Response(answer.model_dump_json(), media_type="application/json")
