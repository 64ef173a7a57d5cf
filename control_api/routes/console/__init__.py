"""The web console (issue 16): server-rendered pages at `/` and `/console/...`, outside the OpenAPI document.

``auth``: sign-in, sign-out, language and organization switches (form posts); ``pages``: the views;
``events``: their live updates (server-sent events); ``assets``: the shipped CSS, scripts and Chart.js.
Every unsafe request to these routes must carry the CSRF token (header or form field): see ``csrf``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from control_api.routes.console import assets, auth, events, pages
from control_api.routes.console.csrf import require_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])
for sub in (assets.router, auth.router, pages.router, events.router):
    router.include_router(sub)

console_page = pages.live_page
__all__ = ["console_page", "router"]
