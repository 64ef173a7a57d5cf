"""The console's sign-in session: tokens in HttpOnly cookies, bridged to the API's bearer authentication.

A browser signed in at `/console/login` holds the `/auth/login` token pair in two cookies the page's
script cannot read (``HttpOnly``; ``Secure`` over https; ``SameSite=Strict``: never sent by a request
another site starts). :class:`ConsoleSessionMiddleware` turns them into ``Authorization: Bearer`` for the
API's own routes, so the console uses exactly the JSON API (and its validation, audit and caches):

- safe methods (GET, HEAD) are bridged: they change nothing, and another origin cannot read the answer;
- other methods only with the double-submit token: ``X-CSRF-Token`` equal to the ``escuta_csrf`` cookie
  (the page has it from a ``<meta>``; another site can neither read it nor send the header without a
  CORS preflight this API refuses), or on the console's own routes, which check it themselves
  (`control_api.console.csrf`: header or form field);
- an explicit ``Authorization`` or ``X-API-Key`` always wins; tokens never appear in a URL.

An expired access token is rotated with the refresh cookie (by `/auth/refresh` itself) and the new pair is
set on the answer. Requests racing with the same refresh token inside this process share one rotation;
rotation across processes follows `/auth/refresh` (a token presented twice ends the login).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from http.cookies import SimpleCookie

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control_api.console import api_client
from control_api.schemas.auth import TokenPair
from core.security.tokens import InvalidToken, verify_access
from core.settings import Settings

log = logging.getLogger("escuta.api.console")

ACCESS_COOKIE = "escuta_at"
REFRESH_COOKIE = "escuta_rt"
CSRF_COOKIE = "escuta_csrf"
LANG_COOKIE = "escuta_lang"
ORG_COOKIE = "escuta_org"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONSOLE_PREFIX = "/console/"
SHARED_ROTATION_SECONDS = 30.0


def read_cookies(headers: Headers) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is the client's problem: no session
        return {}
    return {k: m.value for k, m in jar.items()}


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(sent: str | None, cookie: str | None) -> bool:
    return bool(sent and cookie) and hmac.compare_digest(str(sent).encode(), str(cookie).encode())


def cookie_header(name: str, value: str, *, secure: bool, max_age: int | None, http_only: bool = True) -> str:
    parts = [f"{name}={value}", "Path=/", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def session_cookies(pair: TokenPair, settings: Settings, *, secure: bool) -> list[str]:
    return [
        cookie_header(ACCESS_COOKIE, pair.accessToken, secure=secure, max_age=settings.jwt.access_ttl),
        cookie_header(REFRESH_COOKIE, pair.refreshToken, secure=secure, max_age=settings.jwt.refresh_ttl),
    ]


def cleared_cookies(*, secure: bool) -> list[str]:
    return [cookie_header(n, "", secure=secure, max_age=0) for n in (ACCESS_COOKIE, REFRESH_COOKIE, ORG_COOKIE)]


def access_is_valid(settings: Settings, token: str | None) -> bool:
    if not token:
        return False
    try:
        verify_access(settings, token)
    except InvalidToken:
        return False
    return True


class _Rotations:
    """One rotation per refresh token in this process; concurrent requests share its result briefly."""

    def __init__(self) -> None:
        self._pending: dict[str, tuple[float, asyncio.Future[TokenPair | None]]] = {}

    async def rotate(self, scope: Scope, refresh_token: str) -> TokenPair | None:
        key = hashlib.sha256(refresh_token.encode()).hexdigest()
        now = time.monotonic()
        for k, (at, _) in list(self._pending.items()):
            if now - at > SHARED_ROTATION_SECONDS:
                del self._pending[k]
        if key in self._pending:
            return await asyncio.shield(self._pending[key][1])
        future: asyncio.Future[TokenPair | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = (now, future)
        try:
            pair: TokenPair | None = await api_client.rotate(scope, refresh_token)
        except api_client.AuthFailed:
            pair = None
        except Exception:
            log.exception("console session: token rotation failed")
            pair = None
        future.set_result(pair)
        return pair


class ConsoleSessionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.rotations = _Rotations()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # One pass over the raw headers: most traffic (devices, LiveKit, API clients) carries a credential
        # or no cookie at all, and passes straight through (this runs on every `/token` and webhook).
        names = {name for name, _ in scope["headers"]}
        if b"cookie" not in names or b"authorization" in names or b"x-api-key" in names:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = read_cookies(headers)
        access, refresh = cookies.get(ACCESS_COOKIE), cookies.get(REFRESH_COOKIE)
        if not (access or refresh) or not self._may_bridge(scope, headers, cookies):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        settings: Settings = state.settings
        secure = scope.get("scheme") == "https"
        set_cookies: list[str] = []
        if not access_is_valid(settings, access):
            access = None
            if refresh and state.pool is not None:
                pair = await self.rotations.rotate(scope, refresh)
                if pair is None:
                    set_cookies = cleared_cookies(secure=secure)
                else:
                    access = pair.accessToken
                    set_cookies = session_cookies(pair, settings, secure=secure)
        if access:
            raw = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            raw.append((b"authorization", f"Bearer {access}".encode()))
            scope = {**scope, "headers": raw}

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start" and set_cookies:
                out = MutableHeaders(scope=message)
                for c in set_cookies:
                    out.append("set-cookie", c)
            await send(message)

        await self.app(scope, receive, send_with_cookies)

    @staticmethod
    def _may_bridge(scope: Scope, headers: Headers, cookies: dict[str, str]) -> bool:
        if scope["method"] in SAFE_METHODS:
            return True
        if scope["path"].startswith(CONSOLE_PREFIX):
            return True  # the console's routes check the CSRF token themselves (header or form field)
        return csrf_matches(headers.get(CSRF_HEADER), cookies.get(CSRF_COOKIE))
