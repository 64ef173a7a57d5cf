"""The web console (issue 16): server-rendered pages at `/` and `/console/...`, outside the OpenAPI document.

``auth``: sign-in, sign-up, sign-out, language and organization switches (form posts); the views:
``live`` (live rooms, a session), ``counter``, ``media`` (clips, avatar), ``admin`` (administration, Try
it), ``invite`` (the invitation page `/invite` and its acceptance); ``events``: their live updates
(server-sent events); ``assets``: the shipped CSS and scripts.
Every unsafe request to these routes must carry the CSRF token (header or form field):
`control_api.console.csrf`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from control_api.console.csrf import require_csrf
from control_api.routes.console import admin, assets, auth, counter, events, invite, live, media

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])
for sub in (
    assets.router,
    auth.router,
    live.router,
    counter.router,
    media.router,
    admin.router,
    invite.router,
    events.router,
):
    router.include_router(sub)

console_page = live.live_page
__all__ = ["console_page", "router"]
