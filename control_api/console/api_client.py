"""The console signs in through the API's own `/auth/*` routes, called in-process.

The console is a client of the JSON API (its forms post to it from the browser too), so signing in,
signing up, rotating and revoking tokens follow exactly what `/auth/*` does, rate limits and all, with
no second implementation. The caller's address is passed on, so per-source limits count the browser.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.types import Scope

from control_api.schemas.auth import TokenPair

BASE_URL = "http://escuta.console.internal"


class AuthFailed(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def call(
    scope: Scope, method: str, path: str, body: dict[str, Any] | None, *, authorization: str | None = None
) -> httpx.Response:
    client = scope.get("client") or ("127.0.0.1", 0)
    transport = httpx.ASGITransport(app=scope["app"], client=(client[0], client[1]))
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        return await http.request(method, path, json=body, headers=headers)


async def get(scope: Scope, path: str, authorization: str | None) -> Any:
    """A JSON ``GET`` as the caller (None when refused)."""
    r = await call(scope, "GET", path, None, authorization=authorization)
    return r.json() if r.status_code == 200 else None


def error_code(r: httpx.Response) -> str:
    try:
        return str(r.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "error"


def _failed(r: httpx.Response) -> AuthFailed:
    try:
        err = r.json()["error"]
        return AuthFailed(r.status_code, str(err["code"]), str(err["message"]))
    except (ValueError, KeyError, TypeError):
        return AuthFailed(r.status_code, "error", f"HTTP {r.status_code}")


async def log_in(scope: Scope, email: str, password: str) -> TokenPair:
    r = await call(scope, "POST", "/auth/login", {"email": email, "password": password})
    if r.status_code != 200:
        raise _failed(r)
    return TokenPair.model_validate(r.json())


async def register(scope: Scope, *, email: str, password: str, name: str | None, organization: str) -> TokenPair:
    """Sign up, then sign in (an API that answers the sign-up without tokens is signed in to afterwards)."""
    body = {"email": email, "password": password, "organizationName": organization}
    if name:
        body["name"] = name
    r = await call(scope, "POST", "/auth/register", body)
    if r.status_code not in (200, 201, 202):
        raise _failed(r)
    data = r.json()
    if "accessToken" in data and "refreshToken" in data:
        return TokenPair.model_validate(data)
    return await log_in(scope, email, password)


async def rotate(scope: Scope, refresh_token: str) -> TokenPair:
    r = await call(scope, "POST", "/auth/refresh", {"refreshToken": refresh_token})
    if r.status_code != 200:
        raise _failed(r)
    return TokenPair.model_validate(r.json())


async def log_out(scope: Scope, refresh_token: str) -> None:
    r = await call(scope, "POST", "/auth/logout", {"refreshToken": refresh_token})
    if r.status_code != 200:
        raise _failed(r)
