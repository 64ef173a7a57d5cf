"""Inputs PostgreSQL would refuse are refused at the edge, with a 400 that names the field (issues 13, 14.6).

Before, a NUL character in any text reached PostgreSQL and an `offset` past 2^63 overflowed its bigint:
both answered 500. The database's refusal is still a 400 as a last resort (control_api/errors.py), but
the API now says which field is wrong.

Issue 14.6 added (each answered 500 before, or for the profile was stored): a 300 kB room name in a
signed webhook (PostgreSQL cannot index it), an event time past year 9999, a time before year 1 once in
UTC, a NUL character inside a nested body field, an unknown agent profile; and an unexpected error is one
log line with a reference id, answered as JSON with that id.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import control_api
from control_api.app import create_app
from control_api.schemas.formats import MAX_OFFSET, NUL_MESSAGE, RequestBody
from core.profiles import PROFILE_NAMES
from tests.accounts.helpers import PASSWORD, register
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET, make_settings
from tests.webhook_signing import event_body, sign


def _field(r: httpx.Response) -> str | None:
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request" and "NUL" in error["message"]
    field: str | None = error["details"][0]["field"]
    return field


async def test_nul_characters_in_bodies_name_their_field(client: httpx.AsyncClient) -> None:
    org = await register(client)
    body = {"email": "nul@example.com", "password": PASSWORD, "organizationName": "Rede\x00Pharma"}
    assert _field(await client.post("/auth/register", json=body)) == "organizationName"
    assert _field(await client.post("/auth/login", json={"email": "a\x00@b.co", "password": "x"})) == "email"
    member = {"email": "m@example.com", "role": "member", "password": PASSWORD, "name": "M\x00"}
    assert _field(await client.post("/members", json=member, headers=org.headers)) == "name"
    origins = {"name": "site", "allowedOrigins": ["https://ok.example", "https://a\x00.example"]}
    assert _field(await client.post("/keys/publishable", json=origins, headers=org.headers)) == "allowedOrigins"
    secret = {"secret": "sk-0123\x00456789abcdef"}
    assert _field(await client.put("/credentials/openai", json=secret, headers=org.headers)) == "secret"
    # Nothing was written by the refused requests.
    assert [m["email"] for m in (await client.get("/members", headers=org.headers)).json()["items"]] == [org.email]
    assert (await client.get("/credentials", headers=org.headers)).json() == {"items": []}


async def test_a_password_is_never_stored_so_it_may_hold_any_character(client: httpx.AsyncClient) -> None:
    body = {"email": "odd@example.com", "password": "pass\x00word!", "organizationName": "Rede"}
    assert (await client.post("/auth/register", json=body)).status_code == 202
    login = await client.post("/auth/login", json={"email": "odd@example.com", "password": "pass\x00word!"})
    assert login.status_code == 200, login.text


async def test_nul_in_a_meeting_id_or_room_filter(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    assert _field(await client.get("/sessions/RM_%00x", headers=admin_headers)) == "meeting_id"
    assert _field(await client.get("/sessions/RM_%00x/transcript", headers=admin_headers)) == "meeting_id"
    assert _field(await client.get("/sessions", params={"room": "a\x00b"}, headers=admin_headers)) == "room"


async def test_offset_is_bounded(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    body = event_body("room_started", room_sid="RM_o", room_name="o", created_at=1000)
    r = await client.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )
    assert r.status_code == 200
    last = await client.get("/sessions", params={"offset": MAX_OFFSET}, headers=admin_headers)
    assert last.status_code == 200
    assert last.json() == {"items": [], "limit": 100, "offset": MAX_OFFSET, "nextCursor": None}
    for beyond in (MAX_OFFSET + 1, 2**63, 10**30):
        r = await client.get("/sessions", params={"offset": beyond}, headers=admin_headers)
        assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "offset"


async def _webhook(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )


def _problem(r: httpx.Response, status: int = 400) -> str:
    assert r.status_code == status, r.text
    message: str = r.json()["error"]["message"]
    return message


@pytest.mark.parametrize(
    ("event", "fields", "named"),
    [
        ("room_started", {"room_name": "r" * 300_000}, "room.name"),
        ("room_started", {"room_name": "ok", "room_sid": "RM_" + "x" * 5000}, "room.sid"),
        ("participant_joined", {"participant": {"sid": "PA_1", "identity": "i" * 100_000}}, "participant.identity"),
        ("room_started", {"room_name": "a\x00b"}, "room.name"),
    ],
)
async def test_webhook_strings_livekit_cannot_carry_are_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str], event: str, fields: dict[str, Any], named: str
) -> None:
    r = await _webhook(client, event_body(event, **fields))
    # A body over the route's size limit (issue 14.4, where one is set) is refused before it is read: 413.
    assert r.status_code == 413 or named in _problem(r), r.text
    assert (await client.get("/sessions", headers=admin_headers)).json()["items"] == []


async def test_webhook_times_out_of_range_are_refused(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    for created in (10**15, 2**62):
        r = await _webhook(client, event_body("room_started", room_name="t", created_at=created, room_created=1000))
        assert "createdAt" in _problem(r)
    assert (await client.get("/sessions", headers=admin_headers)).json()["items"] == []
    # The longest room name LiveKit allows by default is still stored.
    ok = await _webhook(client, event_body("room_started", room_name="r" * 256, room_sid="RM_long"))
    assert ok.status_code == 200, ok.text


async def test_unknown_profile_is_refused(client: httpx.AsyncClient) -> None:
    org = await register(client)
    r = await client.put("/solutions/AiHelper", json={"profile": "nonexistent"}, headers=org.headers)
    assert _problem(r).startswith("profile:")
    assert (await client.get("/solutions", headers=org.headers)).json()["items"] == []
    for name in PROFILE_NAMES:
        r = await client.put(f"/solutions/S{name}", json={"profile": name}, headers=org.headers)
        assert r.status_code == 200, r.text


def test_the_api_knows_every_profile_the_worker_registers() -> None:
    from agents.profiles.base import PROFILES, get_profile

    get_profile("counter")  # registers the built-in profiles
    assert sorted(PROFILES) == sorted(PROFILE_NAMES)


async def test_integers_and_dates_out_of_range_are_refused(client: httpx.AsyncClient) -> None:
    org = await register(client)
    stream = {"twitch_user_id": "4242", "display_name": "Gaules"}
    for extra in (
        {"monitor_interval_seconds": 2**31},
        {"monitor_min_clips": 2**63},
        {"monitor_min_clips": -(2**70)},
        {"trial_expires_at": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC
        {"trial_expires_at": "9999-12-31T23:59:59-01:00"},  # after year 9999 in UTC
    ):
        r = await client.post("/streams", json={**stream, **extra}, headers=org.headers)
        field = next(iter(extra))
        assert _problem(r).startswith(f"{field}:"), (extra, r.text)
    assert (await client.get("/streams", headers=org.headers)).json()["items"] == []
    for bad in ({"from": "9999-12-31", "to": "9999-12-31"}, {"from": "0001-01-01", "to": "0001-01-01"}):
        r = await client.get("/api/export/xlsx", params=bad, headers=org.headers)
        assert r.status_code in (200, 400), r.text


async def test_nul_in_nested_fields_is_refused(client: httpx.AsyncClient) -> None:
    org = await register(client)
    media = {"type": "image", "url": "https://cdn.example/a.png", "title": "Promo"}
    trigger = {"name": "promo", "phrases": ["vitamina c"], "media": media}
    for body, field in (
        ({**trigger, "media": {**media, "title": "Pro\x00mo"}}, "media.title"),
        ({**trigger, "phrases": ["ok", "vita\x00mina"]}, "phrases"),
    ):
        r = await client.post("/avatar/triggers", json=body, headers=org.headers)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["details"][0] == {"field": field, "problem": "Value error, " + NUL_MESSAGE}


def test_every_request_body_refuses_what_postgresql_cannot_store() -> None:
    """Global, so a body added later is covered too: every JSON body model is a `RequestBody`."""
    spec = create_app(make_settings()).openapi()
    names = {
        content["schema"]["$ref"].rsplit("/", 1)[1]
        for item in spec["paths"].values()
        for op in item.values()
        for content in op.get("requestBody", {}).get("content", {}).values()
        if "$ref" in content.get("schema", {})
    }
    models: dict[str, type] = {}
    for info in pkgutil.walk_packages(control_api.__path__, "control_api."):
        for value in vars(importlib.import_module(info.name)).values():
            if isinstance(value, type) and issubclass(value, BaseModel):
                models.setdefault(value.__name__, value)
    assert names and names <= set(models), names - set(models)
    assert sorted(n for n in names if not issubclass(models[n], RequestBody)) == []


async def test_an_unexpected_error_is_one_log_line_with_a_reference(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    app: Any = client._transport.app  # type: ignore[attr-defined]

    async def broken() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/_broken", broken)
    with caplog.at_level(logging.INFO):
        answers = [await client.get("/_broken") for _ in range(3)]
    refs = []
    for r in answers:
        assert r.status_code == 500 and r.headers["content-type"] == "application/json"
        error = r.json()["error"]
        assert error["code"] == "internal_error" and "secret internals" not in r.text
        refs.append(error["reference"])
        assert error["reference"] in error["message"]
    assert len(set(refs)) == 3
    records = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert len(records) == 3, [rec.getMessage() for rec in records]
    for rec, ref in zip(records, refs, strict=True):
        assert ref in rec.getMessage() and "\n" not in rec.getMessage()
    # The traceback once, for the first of the three identical failures.
    assert [rec.exc_info is not None for rec in records] == [True, False, False]
