"""Seed 000's `GET /new`: join a new avatar session.

It acts for the caller's organization only, from the caller's credential (a user access token, a device
key or a publishable key): the frontend never sends a provider key (seed 000's rule). It mints what
`/token` would for the organization's avatar solution: the same grants, room naming, room registry,
rate limit and credit check (402). An organization without its own LiveAvatar key is refused here (409
`missing_liveavatar_key`), before any token is minted, not only inside the room. The `url` it answers is
`ESCUTA_LIVEKIT_PUBLIC_URL`: when that is unset or not reachable from the internet it answers 503
`livekit_url_not_public` before minting, since LiveAvatar could not join the room
(control_api/services/livekit_url.py).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request

from control_api.deps import CurrentPrincipal, Pool
from control_api.errors import ApiError
from control_api.principals import limiter, rate_limited
from control_api.schemas.avatar import NewSession
from control_api.schemas.common import errors
from control_api.services import rooms
from control_api.services.avatar_gate import require_avatar_ready
from control_api.services.livekit_url import require_public_livekit_url
from control_api.services.tokens import TokenBody, mint
from core.naming import MAX_SOLUTION, MAX_USER_ID, NAME_PATTERN, room_name, room_too_long
from core.security.ratelimit import RateLimited
from core.settings import Settings
from db import solutions as solutions_repo
from db.credits import AVATAR_PROFILE
from db.tenancy import tenant_connection

router = APIRouter(tags=["avatar"])


# 402: no credit left; 404: no such avatar solution; 409: no LiveAvatar key (or room name taken); 429.
@router.get("/new", responses=errors(402, 404, 409, 429))
async def new_session(
    principal: CurrentPrincipal,
    pool: Pool,
    request: Request,
    solution: str | None = Query(
        None,
        min_length=1,
        max_length=MAX_SOLUTION,
        pattern=NAME_PATTERN,
        description="The avatar solution (default: the organization's first).",
    ),
    userId: str | None = Query(
        None,
        min_length=1,
        max_length=MAX_USER_ID,
        pattern=NAME_PATTERN,
        description="The visitor's identity in the room name (default: a random `visitor-...`).",
        openapi_examples={"visitor": {"summary": "A named visitor", "value": "Daniel"}},
    ),
) -> NewSession:
    """`{token, room, url, identity, apiKey}` for the organization's avatar solution (or the named one)."""
    async with tenant_connection(pool, principal.org_id) as conn:
        solutions = await solutions_repo.list_solutions(conn, principal.org_id)
    avatars = [s["name"] for s in solutions if s["profile"] == AVATAR_PROFILE]
    if solution is None:
        if not avatars:
            raise ApiError(404, "unknown_solution", "the organization has no avatar solution (PUT /solutions/{name})")
        solution = avatars[0]
    elif solution not in avatars:
        raise ApiError(404, "unknown_solution", f"solution {solution!r} is not an avatar solution of this organization")
    settings: Settings = request.app.state.settings
    public_url = await require_public_livekit_url(request.app.state, settings)
    try:
        limiter(request).hit(settings.rate_limit.token, "token:subject", principal.subject)
    except RateLimited as exc:
        raise rate_limited(exc) from None
    await require_avatar_ready(pool, principal.org_id)
    visitor = userId or f"visitor-{uuid.uuid4().hex[:12]}"
    client_id = await rooms.org_client_id(request.app.state, pool, principal.org_id) or str(principal.org_id)
    body = TokenBody(solution=solution, clientId=client_id, userId=visitor)
    room = room_name(solution, client_id, visitor)  # the same room naming as /token
    if room_too_long(room):
        raise ApiError(400, "invalid_request", "userId: the room name would exceed LiveKit's 256 bytes")
    await rooms.register_room(request.app.state, pool, principal.org_id, room, solution, AVATAR_PROFILE)
    signed = mint(settings, principal, body, room, AVATAR_PROFILE)
    return NewSession(token=signed, room=room, identity=room, apiKey=settings.livekit.api_key, url=public_url)
