"""Seed 000 ("EuVatar Backend"): the four routes its frontend consumes and its security rules.

From the seed: "`GET /new` → cria sessão do avatar", "`POST /stt` → converte áudio em texto",
"`POST /context/resolve` → gatilhos de mídia", "`GET /credits` → métricas e créditos"; "Sem fallback
global de API Key", "JWT do cliente é obrigatório", "O backend usa o `client_id` extraído do JWT".
"""

from __future__ import annotations

import httpx

from tests.accounts.helpers import put_solution, register


async def test_get_new_creates_an_avatar_session_only_with_the_clients_own_key(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    org = await register(client, "EuVatar")
    await put_solution(client, org, "Lia", "avatar")
    await client.post("/credits/grants", json={"orgId": org.org_id, "amount": "5"}, headers=admin_headers)
    # "Bloqueia execução sem API Key (sem fallback global)": refused before any token is minted.
    r = await client.get("/new", headers=org.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "missing_liveavatar_key")
    await client.put("/credentials/liveavatar", json={"secret": "la-0123456789abcdef"}, headers=org.headers)
    r = await client.get("/new", headers=org.headers)
    assert r.status_code == 200 and {"token", "room", "url"} <= set(r.json())


async def test_get_new_needs_the_clients_credential(client: httpx.AsyncClient) -> None:
    assert (await client.get("/new")).status_code == 401  # "JWT do cliente é obrigatório"


async def test_post_stt_route_needs_the_clients_credential(client: httpx.AsyncClient) -> None:
    r = await client.post("/stt", content=b"RIFF", headers={"Content-Type": "audio/wav"})
    assert r.status_code == 401


async def test_post_context_resolve_matches_media_triggers(client: httpx.AsyncClient) -> None:
    org = await register(client, "EuVatar")
    r = await client.post("/context/resolve", json={"text": "bom dia"}, headers=org.headers)
    assert r.status_code == 200 and r.json()["matched"] is False


async def test_get_credits_shows_usage_and_balance(client: httpx.AsyncClient) -> None:
    org = await register(client, "EuVatar")
    r = await client.get("/credits", headers=org.headers)
    assert r.status_code == 200 and {"balance", "usageByPeriod", "usageBySession", "ledger"} <= set(r.json())
