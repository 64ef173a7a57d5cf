"""Seed 001 ("Balto Server"), section 4 "Cadastro e Provisionamento" and the Excel report, from its README.

`POST /cadastro/cliente` ``{"email","razao_social","telefone"}`` → ``{"codigo": "123456"}``; `POST
/cadastro/balcao` ``{"nome_balcao","user_codigo"}`` → ``{"api_key": "bk_...", "balcao_id", "status":
"registered"}``; "A `api_key` retornada não expira"; `/api/export/xlsx`. Escuta adds what an organization
made this way needs to work: its counter solution, its client id, `GET /devices/me`.
"""

from __future__ import annotations

import re

import httpx

from tests.accounts.helpers import register_device

CLIENTE = {"email": "contato@redepharma.com", "razao_social": "Rede Pharma LTDA", "telefone": "11999998888"}


async def test_cadastro_cliente_answers_codigo(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    r = await client.post("/cadastro/cliente", json=CLIENTE, headers=admin_headers)
    assert r.status_code == 200 and re.fullmatch(r"[0-9]{6}", r.json()["codigo"])
    # Escuta's additions: the organization is usable at once.
    assert r.json()["solution"] == "balcao" and re.fullmatch(r"[0-9]{8}", r.json()["client_id"])


async def test_cadastro_balcao_answers_the_key_and_a_usable_organization(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    created = (
        await client.post("/cadastro/cliente", json={**CLIENTE, "client_id": "123"}, headers=admin_headers)
    ).json()
    device = await register_device(client, created["codigo"])
    assert re.fullmatch(r"bk_[0-9a-f]{60}", device["api_key"]) and device["status"] == "registered"
    assert (device["client_id"], device["solution"]) == ("123", "balcao")
    key = {"X-API-Key": device["api_key"]}
    # GET /devices/me: which organization, solution and name the key is.
    me = (await client.get("/devices/me", headers=key)).json()
    assert me["id"] == device["balcao_id"] and me["name"] == "Balcão Entrada 01"
    assert me["organization"] == {"id": created["organization_id"], "name": "Rede Pharma LTDA", "clientId": "123"}
    assert me["solution"] == "balcao"
    # Its devices can get room tokens at once (was 404 unknown_solution).
    r = await client.post("/token", json={"solution": "balcao", "clientId": "123", "userId": "Carla"}, headers=key)
    assert r.status_code == 200 and r.json()["room"] == "balcao-123-Carla"


async def test_devices_me_is_for_device_keys(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    assert (await client.get("/devices/me")).status_code == 401
    r = await client.get("/devices/me", headers=admin_headers)
    assert r.status_code in (401, 403)


async def test_platform_admin_acts_for_the_new_client_and_is_audited(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    created = (await client.post("/cadastro/cliente", json=CLIENTE, headers=admin_headers)).json()
    org = {"orgId": created["organization_id"]}
    await register_device(client, created["codigo"])
    r = await client.get("/devices", params=org, headers=admin_headers)
    assert r.status_code == 200 and [d["name"] for d in r.json()["items"]] == ["Balcão Entrada 01"]
    assert (await client.get("/solutions", params=org, headers=admin_headers)).json()["items"][0]["name"] == "balcao"
    audit = (await client.get("/organization/audit", params=org, headers=admin_headers)).json()["items"]
    assert [a["path"] for a in audit] == ["/organization/audit", "/solutions", "/devices"]
    unknown = {"orgId": "00000000-0000-0000-0000-00000000abcd"}
    assert (await client.get("/devices", params=unknown, headers=admin_headers)).status_code == 404


async def test_export_xlsx_path(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    created = (await client.post("/cadastro/cliente", json=CLIENTE, headers=admin_headers)).json()
    r = await client.get("/api/export/xlsx", params={"orgId": created["organization_id"]}, headers=admin_headers)
    assert r.status_code == 200 and r.content[:2] == b"PK"  # an .xlsx (zip) workbook


async def test_cadastro_cliente_invites_the_owner(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    created = (await client.post("/cadastro/cliente", json=CLIENTE, headers=admin_headers)).json()
    invitation = created["invitation"]  # returned once, to the platform admin
    assert invitation["email"] == CLIENTE["email"] and invitation["role"] == "owner" and invitation["token"]
    r = await client.post("/invitations/accept", json={"token": invitation["token"], "password": "uma senha longa"})
    assert r.status_code in (200, 201)
    # The client's owner now runs its organization: the counter solution is there, devices can be listed.
    owner = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    assert r.json()["role"] == "owner" and r.json()["organization"]["id"] == created["organization_id"]
    assert [s["name"] for s in (await client.get("/solutions", headers=owner)).json()["items"]] == ["balcao"]
    assert (await client.get("/devices", headers=owner)).status_code == 200
    r = await client.post("/invitations/accept", json={"token": invitation["token"], "password": "uma senha longa"})
    assert r.status_code == 400  # once
