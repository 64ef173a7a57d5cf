"""Who is looking at the console, in which organization and language, and the page rendering around it.

The signed-in user comes from the bearer token the session middleware bridged from the cookies
(`control_api.console.session`); the platform admin's chosen organization from the ``escuta_org`` cookie,
checked and recorded in that organization's audit trail exactly as `?orgId=` on the API
(`control_api.principals.require_org_member`).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from control_api.console import i18n
from control_api.console.session import CSRF_COOKIE, LANG_COOKIE, ORG_COOKIE, cookie_header, new_csrf_token
from control_api.errors import ApiError
from control_api.principals import AuthUser, require_org_member, user_from_token
from core.settings import Settings
from db.console import org_directory
from db.tenancy import tenant_connection

HERE = Path(__file__).parent
STATIC = HERE / "static"
LOGIN_PATH = "/console/login"


@cache
def static_version() -> str:
    """A digest of the shipped assets: part of their URLs, so they can be cached for a year."""
    h = hashlib.sha256()
    for p in sorted(STATIC.iterdir()):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:10]


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


@dataclass
class Console:
    """One request's view of the console."""

    request: Request
    settings: Settings
    lang: str
    csrf: str
    new_csrf: bool
    user: AuthUser | None
    org_id: uuid.UUID | None  # the organization shown (None: the platform's own view)
    role: str | None
    orgs: list[Any]  # the platform admin's switcher (id, name)

    @property
    def is_admin(self) -> bool:
        return self.role in ("owner", "admin")

    @property
    def acting_for(self) -> uuid.UUID | None:
        """The organization the platform admin picked (API calls carry it as ``orgId``)."""
        if self.user is not None and self.user.platform_admin and self.org_id != self.user.org_id:
            return self.org_id
        return None

    def t(self, msgid: str, /, **values: object) -> str:
        return i18n.translate(self.lang, msgid, **values)

    def when(self, at: datetime | None, fmt: str = "%d/%m %H:%M:%S") -> str:
        if at is None:
            return i18n.translate(self.lang, "common.empty")
        return at.astimezone(ZoneInfo(self.settings.counter.report_timezone)).strftime(fmt)

    def render(
        self, template: str, status_code: int = 200, *, connect: tuple[str, ...] = (), **values: Any
    ) -> HTMLResponse:
        """The page; ``connect`` adds origins its script may reach (the LiveKit server, on the Try it page)."""
        html = environment().get_template(template).render(c=self, t=self.t, v=static_version(), **values)
        response = HTMLResponse(html, status_code=status_code)
        self.finish(response, connect=connect)
        return response

    def finish(self, response: Response, *, connect: tuple[str, ...] = ()) -> Response:
        # Pages are per user: never kept by a shared cache; and never framed by another site.
        response.headers["cache-control"] = "no-store"
        response.headers["x-frame-options"] = "DENY"
        response.headers["referrer-policy"] = "same-origin"
        sources = " ".join(("'self'", *connect))
        response.headers["content-security-policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"connect-src {sources}; media-src 'self' blob: mediastream:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        )
        if self.new_csrf:
            secure = self.request.url.scheme == "https"
            response.headers.append("set-cookie", cookie_header(CSRF_COOKIE, self.csrf, secure=secure, max_age=None))
        return response


class SignInRequired(Exception):
    pass


async def console(request: Request, *, signed_in: bool = True) -> Console:
    """The request's console view; raises :class:`SignInRequired` when ``signed_in`` and nobody is."""
    settings: Settings = request.app.state.settings
    cookies = request.cookies
    lang = i18n.normalize(cookies.get(LANG_COOKIE))
    csrf = cookies.get(CSRF_COOKIE) or ""
    new_csrf = len(csrf) < 32
    if new_csrf:
        csrf = new_csrf_token()
    view = Console(request, settings, lang, csrf, new_csrf, None, None, None, [])
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            view.user = user_from_token(settings, token.strip())
        except ApiError:
            view.user = None
    if view.user is None:
        if signed_in:
            raise SignInRequired()
        return view
    view.org_id, view.role = view.user.org_id, view.user.role
    if view.user.platform_admin:
        async with tenant_connection(request.app.state.pool, None) as conn:
            view.orgs = list(await org_directory(conn))
        chosen = _uuid(cookies.get(ORG_COOKIE))
        if chosen is not None and chosen != view.user.org_id:
            try:
                acting = await require_org_member(request, org=chosen)
            except ApiError:
                acting = None
            if acting is not None:
                view.org_id, view.role = acting.org_id, acting.role
    return view


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(LOGIN_PATH, status_code=303)


async def page_view(request: Request) -> Console | Response:
    """The console view of a page's request, or the redirect to sign in."""
    try:
        return await console(request)
    except SignInRequired:
        return to_login(request)
