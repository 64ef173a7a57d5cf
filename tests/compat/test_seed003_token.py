"""Seed 003 ("Token Service AiVoice"): what its frontends send, exactly as its README shows it.

"URL: https://token.aivoice.com.br, Método: POST", body ``{"solution": "AiHelper", "clientId": "123",
"userId": "Daniel"}``, answer ``{"token", "room", "identity", "apiKey"}`` with room and identity
``"AiHelper-123-Daniel"``, and "400 Bad Request: A requisição não continha todos os campos obrigatórios".
Escuta's one change: a credential (documented in docs/compatibility.md: a publishable key header from the
frontend's allowed Origin).
"""

from __future__ import annotations

import httpx
import jwt
import pytest

from tests.accounts.helpers import Org, put_solution, register
from tests.conftest import TEST_LK_SECRET

SEED_BODY = {"solution": "AiHelper", "clientId": "123", "userId": "Daniel"}
ORIGIN = "https://helper.aivoice.com.br"


async def seed_client(client: httpx.AsyncClient, client_id: str = "123") -> dict[str, str]:
    """An organization with the seed's client id and solution, and the frontend's publishable key."""
    org = await register(client, "AiVoice")
    await put_solution(client, org, "AiHelper", "transcription")
    r = await client.put("/organization/client-id", json={"clientId": client_id}, headers=org.headers)
    assert r.status_code == 200 and r.json()["clientId"] == client_id, r.text
    r = await client.post("/keys/publishable", json={"name": "helper", "allowedOrigins": [ORIGIN]}, headers=org.headers)
    return {"X-API-Key": r.json()["key"], "Origin": ORIGIN, "org": org.org_id, "access": org.access}


def headers_of(creds: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": creds["X-API-Key"], "Origin": creds["Origin"]}


@pytest.mark.parametrize("path", ["/", "/token"])
async def test_post_at_root_answers_the_seed_fields(
    client: httpx.AsyncClient, admin_headers: dict[str, str], path: str
) -> None:
    creds = await seed_client(client)
    r = await client.post(path, json=SEED_BODY, headers=headers_of(creds))
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"token", "room", "identity", "apiKey"} <= set(body)
    assert body["room"] == body["identity"] == "AiHelper-123-Daniel"
    claims = jwt.decode(body["token"], TEST_LK_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "AiHelper-123-Daniel" and claims["video"]["room"] == "AiHelper-123-Daniel"


async def test_seed_names_with_spaces_capitals_and_hyphens(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    creds = await seed_client(client)
    owner = {"Authorization": f"Bearer {creds['access']}"}
    assert (
        await client.put("/solutions/Ai-Helper", json={"profile": "transcription"}, headers=owner)
    ).status_code == 200
    body = {"solution": "Ai-Helper", "clientId": "123", "userId": "Daniel Silva"}
    r = await client.post("/", json=body, headers=headers_of(creds))
    assert r.status_code == 200, r.text
    assert r.json()["room"] == r.json()["identity"] == "Ai-Helper-123-Daniel Silva"
    # The organization's UUID still names it as well.
    r = await client.post("/", json={**body, "clientId": creds["org"]}, headers=headers_of(creds))
    assert r.json()["room"] == f"Ai-Helper-{creds['org']}-Daniel Silva"


async def test_missing_fields_are_400(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    creds = await seed_client(client)
    for field in SEED_BODY:
        body = {k: v for k, v in SEED_BODY.items() if k != field}
        r = await client.post("/", json=body, headers=headers_of(creds))
        assert r.status_code == 400 and r.json()["error"]["message"].startswith(field), r.text


async def test_cors_preflight_from_the_seeds_origin_pattern(client: httpx.AsyncClient) -> None:
    # Seed 003's production origins (`^https:\/\/.*\.aivoice\.com\.br$`) are a setting; here the default
    # (local origins) is in force, and a preflight from elsewhere gets no CORS grant.
    ok = await client.options("/", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"})
    assert ok.headers.get("access-control-allow-origin") == "http://localhost:5173"
    other = await client.options(
        "/", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in other.headers


async def test_the_one_change_a_credential_is_required(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    creds = await seed_client(client)
    assert (await client.post("/", json=SEED_BODY)).status_code == 401
    # The publishable key only from its allowed Origin.
    r = await client.post("/", json=SEED_BODY, headers={"X-API-Key": creds["X-API-Key"], "Origin": "https://x.example"})
    assert r.status_code == 403


async def test_client_id_is_unique_and_set_by_the_platform_admin_for_an_org(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    first = await seed_client(client, "123")
    other: Org = await register(client, "Outra")
    r = await client.put("/organization/client-id", json={"clientId": "123"}, headers=other.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "client_id_taken")
    # A clientId naming another organization is refused (403), never minted.
    await put_solution(client, other, "AiHelper", "transcription")
    r = await client.post("/", json=SEED_BODY, headers=other.headers)
    assert r.status_code == 403
    # The platform admin sets it for an organization (?orgId=), and that is in the organization's audit.
    r = await client.put(
        "/organization/client-id", params={"orgId": other.org_id}, json={"clientId": "456"}, headers=admin_headers
    )
    assert r.status_code == 200 and r.json()["clientId"] == "456"
    audit = (await client.get("/organization/audit", headers=other.headers)).json()["items"]
    assert [(a["actor"], a["method"], a["path"]) for a in audit] == [("admin-token", "PUT", "/organization/client-id")]
    assert (await client.get("/organization/audit", headers={"Authorization": f"Bearer {first['access']}"})).json()[
        "items"
    ] == []
    # orgId is the platform admin's only.
    r = await client.get("/organization", params={"orgId": first["org"]}, headers=other.headers)
    assert r.status_code == 403
    for bad in ("12-3", "a b", "", "x" * 65):
        r = await client.put("/organization/client-id", json={"clientId": bad}, headers=other.headers)
        assert r.status_code == 400, bad


async def test_two_organizations_composing_the_same_room_name(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    # "Ai-Helper" + "123" + "x" and "Ai" + "Helper" + "123-x" compose the same room: the first keeps it.
    a = await seed_client(client, "123")
    owner_a = {"Authorization": f"Bearer {a['access']}"}
    await client.put("/solutions/Ai-Helper", json={"profile": "transcription"}, headers=owner_a)
    b = await register(client, "B")
    await client.put("/organization/client-id", json={"clientId": "Helper"}, headers=b.headers)
    await put_solution(client, b, "Ai", "transcription")
    r = await client.post("/", json={"solution": "Ai-Helper", "clientId": "123", "userId": "x"}, headers=owner_a)
    assert r.status_code == 200 and r.json()["room"] == "Ai-Helper-123-x"
    r = await client.post("/", json={"solution": "Ai", "clientId": "Helper", "userId": "123-x"}, headers=b.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "room_taken")
