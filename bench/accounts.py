"""Sign-up for benches: since issue 14.1 `POST /auth/register` answers 202 alike for every e-mail (no
tokens), so a bench registers, logs in and asks `/auth/me` for its organization, as a client would."""

from __future__ import annotations

from typing import Any


async def sign_up(client: Any, email: str, password: str, organization: str) -> tuple[str, dict[str, str]]:
    """Register a new organization's owner with an httpx-like client; returns (org id, bearer headers)."""
    account = {"email": email, "password": password}
    (await client.post("/auth/register", json={**account, "organizationName": organization})).raise_for_status()
    r = await client.post("/auth/login", json=account)
    r.raise_for_status()
    headers = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    me = await client.get("/auth/me", headers=headers)
    me.raise_for_status()
    return str(me.json()["organization"]["id"]), headers
