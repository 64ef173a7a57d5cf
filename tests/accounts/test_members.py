"""`/members`: roles owner/admin/member, and what each may do."""

from __future__ import annotations

import httpx

from tests.accounts.helpers import PASSWORD, register


async def test_roles(client: httpx.AsyncClient) -> None:
    a = await register(client, "A")
    b = await register(client, "B")
    r = await client.post(
        "/members", json={"email": "bia@example.com", "role": "member", "password": PASSWORD}, headers=a.headers
    )
    assert r.status_code == 201
    member_id = r.json()["id"]
    r = await client.post("/members", json={"email": "new@example.com", "role": "admin"}, headers=a.headers)
    assert r.status_code == 400 and "password" in r.json()["error"]["message"]

    login = await client.post("/auth/login", json={"email": "bia@example.com", "password": PASSWORD})
    member = {"Authorization": f"Bearer {login.json()['accessToken']}"}
    me = (await client.get("/auth/me", headers=member)).json()
    assert me["role"] == "member" and me["organization"]["id"] == a.org_id
    # Members read; only owners and admins manage.
    assert (await client.get("/members", headers=member)).status_code == 200
    for method, path in (("GET", "/devices"), ("POST", "/cadastro/codigo"), ("PUT", "/credentials/openai")):
        r = await client.request(method, path, headers=member, json={"secret": "x"})
        assert r.status_code == 403, path
    r = await client.post(
        "/members", json={"email": "x@example.com", "role": "admin", "password": PASSWORD}, headers=member
    )
    assert r.status_code == 403

    # An existing account joins a second organization and picks it at login.
    assert (
        await client.post("/members", json={"email": "bia@example.com", "role": "admin"}, headers=b.headers)
    ).status_code == 201
    login_b = await client.post(
        "/auth/login", json={"email": "bia@example.com", "password": PASSWORD, "organizationId": b.org_id}
    )
    me_b = (await client.get("/auth/me", headers={"Authorization": f"Bearer {login_b.json()['accessToken']}"})).json()
    assert me_b["role"] == "admin" and me_b["organization"]["id"] == b.org_id

    # B cannot remove A's member (404); A cannot remove its owner; A removes its member.
    owner_id = next(
        m["id"] for m in (await client.get("/members", headers=a.headers)).json()["items"] if m["role"] == "owner"
    )
    r = await client.delete(f"/members/{owner_id}", headers=b.headers)
    assert r.status_code == 404
    assert (await client.delete(f"/members/{owner_id}", headers=a.headers)).status_code == 403
    assert (await client.delete(f"/members/{member_id}", headers=a.headers)).status_code == 200
    r = await client.post(
        "/auth/login", json={"email": "bia@example.com", "password": PASSWORD, "organizationId": a.org_id}
    )
    assert r.status_code == 403
