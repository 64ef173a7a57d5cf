"""The benches sign up the way a client does since issue 14.1 (register answers 202 without tokens): a
bench whose provisioning broke would fail only when someone ran it, so its helper is tested here."""

from __future__ import annotations

import uuid

import httpx

from bench.accounts import sign_up


async def test_sign_up_gives_the_new_organization_and_working_headers(client: httpx.AsyncClient) -> None:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    org_id, headers = await sign_up(client, email, "bench-password-123", "Bench")
    me = (await client.get("/auth/me", headers=headers)).json()
    assert me["email"] == email and me["organization"]["id"] == org_id
    assert (await client.put("/solutions/AiHelper", json={"profile": "balcao"}, headers=headers)).status_code == 200
