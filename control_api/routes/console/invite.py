"""The invitation landing page, `/invite#<token>` (the link `POST /members` answers), and its acceptance.

The token stays in the URL's fragment, which no browser sends to a server: `static/invite.js` reads it and
posts it in a body to `POST /console/invite/accept`, which calls `POST /invitations/accept` in-process (the
API's rules and rate limits, no second implementation) and, like `/console/login`, keeps the answered token
pair in the HttpOnly cookies: the page's script never sees a token of the account.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from control_api.console import api_client
from control_api.console.csrf import MAX_FORM_BYTES
from control_api.console.render import Console, console
from control_api.console.session import ORG_COOKIE, cookie_header, session_cookies
from control_api.errors import ApiError
from control_api.schemas.auth import TokenPair

router = APIRouter()
NEXT = "/console/"
# The API's refusals, said in the page's language (and next to the password when it is the password).
REFUSALS = {
    "invalid_invitation": "invite.invalid",
    "wrong_account": "invite.wrong_account",
    "rate_limited": "login.throttled",
}


@router.get("/invite")
async def invite_page(request: Request) -> Response:
    """Open to anyone: a signed-in user may accept with their account, anyone with a password."""
    view = await console(request, signed_in=False)
    email = None
    if view.user is not None:
        me = await api_client.get(request.scope, "/auth/me", request.headers.get("authorization"))
        email = me.get("email") if isinstance(me, dict) else None
    return view.render("invite.html", page="invite", email=email or "")


def _refused(view: Console, status: int, *, field: str | None = None, message: str) -> JSONResponse:
    error: dict[str, Any] = {"code": "invitation_refused", "message": message, "details": []}
    if field is not None:
        error["details"] = [{"field": field, "problem": message}]
    response = JSONResponse({"error": error}, status_code=status)
    view.finish(response)
    return response


@router.post("/console/invite/accept")
async def accept(request: Request) -> Response:
    """``{token, account: "yes"}`` (the signed-in account) or ``{token, password, name?}``."""
    view = await console(request, signed_in=False)
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise ApiError(413, "payload_too_large", "the body is too large")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "invalid_body", "the body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("token"), str) or not body["token"]:
        return _refused(view, 400, message=view.t("invite.no_token"))
    forward: dict[str, Any] = {"token": body["token"]}
    authorization = None
    if body.get("account") == "yes":
        authorization = request.headers.get("authorization")
        if view.user is None or authorization is None:
            return _refused(view, 401, message=view.t("login.invalid"))
    else:
        password, name = body.get("password"), body.get("name")
        if not isinstance(password, str) or not 8 <= len(password) <= 256:
            return _refused(view, 400, field="password", message=view.t("signup.password_short"))
        if name is not None and (not isinstance(name, str) or len(name) > 200):
            return _refused(view, 400, field="name", message=view.t("signup.too_long"))
        forward["password"] = password
        if name and name.strip():
            forward["name"] = name.strip()
    r = await api_client.call(request.scope, "POST", "/invitations/accept", forward, authorization=authorization)
    if r.status_code != 200:
        code = api_client.error_code(r)
        if r.status_code == 401 and authorization is None:
            return _refused(view, 401, field="password", message=view.t("invite.wrong_password"))
        return _refused(view, r.status_code, message=view.t(REFUSALS.get(code, "invite.invalid")))
    pair = TokenPair.model_validate(r.json())
    secure = request.url.scheme == "https"
    response = JSONResponse({"next": NEXT})
    for c in session_cookies(pair, request.app.state.settings, secure=secure):
        response.headers.append("set-cookie", c)
    # The new pair acts in the invitation's organization: a platform admin's pick no longer applies.
    response.headers.append("set-cookie", cookie_header(ORG_COOKIE, "", secure=secure, max_age=0))
    view.finish(response)
    return response
