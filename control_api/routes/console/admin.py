"""Administration (members and invitations, devices and link codes, publishable keys, credentials, solutions)
and Try it."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from control_api.console.render import Console, page_view
from control_api.services.speech import effective_language, stt_status
from core.settings import PROVIDERS
from db import accounts, credentials, devices, invitations, solutions
from db import language as languages
from db.tenancy import tenant_connection

router = APIRouter()
PROFILE_SUGGESTIONS = ("transcription", "counter", "coach", "avatar")
INVITABLE_ROLES = ("member", "admin")  # `POST /members` and `PUT /members/{id}`: never the owner


@router.get("/console/admin")
async def admin_page(request: Request) -> Response:
    view = await page_view(request)
    if not isinstance(view, Console):
        return view
    if view.org_id is None:
        return view.render("message.html", page="admin", message=view.t("error.no_org"))
    org = view.org_id
    async with tenant_connection(request.app.state.pool, org) as conn:
        members = (await accounts.list_members(conn, org)).rows  # every member: one organization's page
        # Pending invitations are the admins' business (`GET /invitations` is owner/admin too).
        pending = await invitations.list_open(conn, org) if view.is_admin else []
        device_rows = await devices.list_devices(conn, org)
        keys = await devices.list_publishable_keys(conn, org)
        creds = await credentials.list_credentials(conn, org)
        sols = await solutions.list_solutions(conn, org)
        org_language = await languages.org_language(conn, org)
    # Issue 17: a solution whose language none of the organization's providers hears is shown as such here,
    # not discovered by silence in its rooms (the same verdict as `GET /solutions`' `speechToText`).
    speech = {
        s["name"]: stt_status(view.settings, org, effective_language(view.settings, s["language"], org_language))
        for s in sols
    }
    return view.render(
        "admin.html",
        page="admin",
        members=members,
        invitations=pending,
        roles=INVITABLE_ROLES,
        devices=device_rows,
        keys=keys,
        credentials=creds,
        solutions=sols,
        speech=speech,
        providers=PROVIDERS,
        profiles=PROFILE_SUGGESTIONS,
    )


def _origins(url: str) -> tuple[str, ...]:
    """The LiveKit server's websocket origin and its http(s) twin (the client validates a failed join)."""
    parts = urlsplit(url)
    secure = parts.scheme in ("wss", "https")
    host = parts.netloc
    return (f"{'wss' if secure else 'ws'}://{host}", f"{'https' if secure else 'http'}://{host}")


@router.get("/console/try")
async def try_page(request: Request) -> Response:
    """Join one of the organization's solutions from the browser (livekit-client, shipped with the page)."""
    view = await page_view(request)
    if not isinstance(view, Console):
        return view
    if view.org_id is None:
        return view.render("message.html", page="try", message=view.t("error.no_org"))
    async with tenant_connection(request.app.state.pool, view.org_id) as conn:
        sols = await solutions.list_solutions(conn, view.org_id)
    url = view.settings.livekit.frontend_url()
    return view.render("try.html", page="try", solutions=sols, connect=_origins(url))
