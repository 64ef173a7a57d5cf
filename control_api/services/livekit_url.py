"""The public LiveKit URL an avatar session needs (`ESCUTA_LIVEKIT_PUBLIC_URL`), checked before minting.

LiveAvatar joins the room from its own cloud: with a loopback, private, site-local or unset public URL the
avatar agent would refuse the job, so `/new` (and `/token` for an avatar solution) answer 503
`livekit_url_not_public` instead of a token for a room where no avatar will ever appear. The verdict is
cached per process for `VERDICT_SECONDS` (a DNS answer can change; the settings cannot without a
restart), so a visitor's request costs at most one lookup a minute.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from control_api.errors import ApiError
from core.security.public_url import NotPublic, public_url_problem
from core.settings import Settings

log = logging.getLogger("escuta.api.livekit_url")

VERDICT_SECONDS = 60.0


async def require_public_livekit_url(state: Any, settings: Settings) -> str:
    """The public URL for an avatar session, or a 503 naming the setting (never its value: the answer
    goes to frontends, the address to the log)."""
    url = settings.livekit.public_url
    now = time.monotonic()
    cached: tuple[float, str | None, NotPublic | None] | None = getattr(state, "public_livekit_verdict", None)
    if cached is not None and cached[1] == url and now - cached[0] < VERDICT_SECONDS:
        problem = cached[2]
    else:
        problem = await public_url_problem(url)
        state.public_livekit_verdict = (now, url, problem)
        if problem is not None:
            log.error(
                "ESCUTA_LIVEKIT_PUBLIC_URL %s (%s): avatar sessions are refused", problem.summary(), problem.detail
            )
    if problem is not None or url is None:
        summary = problem.summary() if problem is not None else "is not set"
        raise ApiError(
            503,
            "livekit_url_not_public",
            f"avatar sessions are unavailable: the platform's public LiveKit URL (ESCUTA_LIVEKIT_PUBLIC_URL) "
            f"{summary}, and LiveAvatar joins rooms from its own cloud",
        )
    return url
