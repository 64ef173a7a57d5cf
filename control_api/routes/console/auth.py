"""Signing in to the console (the `/auth/login` rules, tokens into HttpOnly cookies), out, and the switches."""

from __future__ import annotations

import contextlib
import re
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from control_api.console import api_client, i18n
from control_api.console.csrf import read_form
from control_api.console.render import console
from control_api.console.session import (
    LANG_COOKIE,
    ORG_COOKIE,
    REFRESH_COOKIE,
    cleared_cookies,
    cookie_header,
    session_cookies,
)
from control_api.errors import ApiError
from control_api.schemas.common import EMAIL_PATTERN

router = APIRouter()
ONE_YEAR = 365 * 24 * 3600
LOGIN_ERRORS = {
    "invalid_credentials": "login.invalid",
    "rate_limited": "login.throttled",
    "no_organization": "login.no_org",
}


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _back(request: Request, to: str, cookies: list[str]) -> Response:
    response = RedirectResponse(to, status_code=303)
    for c in cookies:
        response.headers.append("set-cookie", c)
    return response


@router.get("/console/login")
async def login_page(request: Request) -> Response:
    view = await console(request, signed_in=False)
    if view.user is not None:
        return RedirectResponse("/console/", status_code=303)
    return view.render("login.html", page="login", errors={}, email=None, form_error=None)


@router.post("/console/login")
async def login(request: Request) -> Response:
    view = await console(request, signed_in=False)
    form = await read_form(request)
    email, password = form.get("email", "").strip(), form.get("password", "")
    errors: dict[str, str] = {}
    if not re.fullmatch(EMAIL_PATTERN, email) or len(email) > 320:
        errors["email"] = view.t("login.email_invalid")
    if not password or len(password) > 256:
        errors["password"] = view.t("login.password_missing")
    if errors:
        return view.render("login.html", status_code=400, page="login", errors=errors, email=email, form_error=None)
    state = request.app.state
    try:
        pair = await api_client.log_in(request.scope, email, password)
    except api_client.AuthFailed as exc:
        key = LOGIN_ERRORS.get(exc.code, "login.invalid")
        return view.render(
            "login.html", status_code=exc.status, page="login", errors={}, email=email, form_error=view.t(key)
        )
    return _back(request, "/console/", session_cookies(pair, state.settings, secure=_secure(request)))


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        # Already expired or revoked: signing out still clears the cookies.
        with contextlib.suppress(api_client.AuthFailed):
            await api_client.log_out(request.scope, refresh)
    return _back(request, "/console/login", cleared_cookies(secure=_secure(request)))


@router.post("/console/lang")
async def switch_language(request: Request) -> Response:
    form = await read_form(request)
    lang = i18n.normalize(form.get("lang"))
    target = form.get("next", "/console/")
    if not target.startswith("/console/") and target not in ("/", "/invite"):
        target = "/console/"  # never an open redirect
    cookie = cookie_header(LANG_COOKIE, lang, secure=_secure(request), max_age=ONE_YEAR, http_only=False)
    return _back(request, target, [cookie])


@router.post("/console/org")
async def switch_organization(request: Request) -> Response:
    """The platform admin picks the organization to look at (each view is recorded in its audit trail)."""
    view = await console(request, signed_in=False)
    if view.user is None or not view.user.platform_admin:
        raise ApiError(403, "forbidden", "only the platform admin switches organizations")
    form = await read_form(request)
    chosen = form.get("org", "")
    secure = _secure(request)
    if not chosen:
        return _back(request, "/console/", [cookie_header(ORG_COOKIE, "", secure=secure, max_age=0)])
    try:
        org = uuid.UUID(chosen)
    except ValueError:
        raise ApiError(400, "invalid_request", "org: not an organization id") from None
    return _back(request, "/console/", [cookie_header(ORG_COOKIE, str(org), secure=secure, max_age=None)])


@router.get("/console/signup")
async def signup_page(request: Request) -> Response:
    view = await console(request, signed_in=False)
    return view.render("signup.html", page="signup", errors={}, values={}, form_error=None)


@router.post("/console/signup")
async def signup(request: Request) -> Response:
    """A new organization and its owner through `POST /auth/register`, then signed in."""
    view = await console(request, signed_in=False)
    form = await read_form(request)
    values = {k: form.get(k, "").strip() for k in ("organization", "name", "email")}
    password = form.get("password", "")
    errors: dict[str, str] = {}
    if not 1 <= len(values["organization"]) <= 200:
        errors["organization"] = view.t("signup.organization_missing")
    if len(values["name"]) > 200:
        errors["name"] = view.t("signup.too_long")
    if not re.fullmatch(EMAIL_PATTERN, values["email"]) or len(values["email"]) > 320:
        errors["email"] = view.t("login.email_invalid")
    if not 8 <= len(password) <= 256:
        errors["password"] = view.t("signup.password_short")
    if errors:
        return view.render("signup.html", status_code=400, page="signup", errors=errors, values=values, form_error=None)
    state = request.app.state
    try:
        pair = await api_client.register(
            request.scope,
            email=values["email"],
            password=password,
            name=values["name"] or None,
            organization=values["organization"],
        )
    except api_client.AuthFailed as exc:
        if exc.code == "email_taken":  # an API that says so
            errors["email"] = view.t("signup.email_taken")
        # An API that answers every sign-up alike (no account enumeration): signing in then fails.
        known = {"invalid_credentials": "signup.not_signed_in", "rate_limited": "login.throttled"}
        message = None if errors else view.t(known.get(exc.code, "signup.not_signed_in"))
        return view.render(
            "signup.html", status_code=exc.status, page="signup", errors=errors, values=values, form_error=message
        )
    return _back(request, "/console/", session_cookies(pair, state.settings, secure=_secure(request)))
