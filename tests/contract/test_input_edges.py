"""Inputs PostgreSQL would refuse are refused at the edge, with a 400 that names the field (issue 13).

Before, a NUL character in any text reached PostgreSQL and an `offset` past 2^63 overflowed its bigint:
both answered 500. The database's refusal is still a 400 as a last resort (control_api/errors.py), but
the API now says which field is wrong.
"""

from __future__ import annotations

import httpx

from control_api.schemas.formats import MAX_OFFSET
from tests.accounts.helpers import PASSWORD, register
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET
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
    assert (await client.post("/auth/register", json=body)).status_code == 201
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
