"""Double-submit CSRF check for the console's own unsafe routes (the cookie against a header or form field)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

from control_api.console.session import CSRF_COOKIE, CSRF_HEADER, SAFE_METHODS, csrf_matches
from control_api.errors import ApiError

MAX_FORM_BYTES = 16 * 1024


async def read_form(request: Request) -> dict[str, str]:
    """A small urlencoded form (the console's forms carry a few short fields)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return {}
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise ApiError(413, "payload_too_large", "the form is too large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_body", "the form is not UTF-8") from None
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


async def require_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or (await read_form(request)).get("csrf")
    if not csrf_matches(sent, request.cookies.get(CSRF_COOKIE)):
        raise ApiError(403, "csrf_failed", "missing or wrong CSRF token; reload the page")
