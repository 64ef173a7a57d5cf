"""`/members`: roles owner/admin/member, and what each may do."""

from __future__ import annotations

import httpx

from tests.accounts.helpers import PASSWORD, invite_and_join, register


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_roles(client: httpx.AsyncClient) -> None:
    a = await register(client, "A")
    b = await register(client, "B")
    joined = await invite_and_join(client, a, "bia@example.com", "member")
    assert joined["role"] == "member" and joined["organization"]["id"] == a.org_id

    login = await client.post("/auth/login", json={"email": "bia@example.com", "password": PASSWORD})
    member = _bearer(login.json()["accessToken"])
    me = (await client.get("/auth/me", headers=member)).json()
    assert me["role"] == "member" and me["organization"]["id"] == a.org_id
    member_id = me["id"]
    # Members read; only owners and admins manage.
    assert (await client.get("/members", headers=member)).status_code == 200
    for method, path in (("GET", "/devices"), ("POST", "/cadastro/codigo"), ("PUT", "/credentials/openai")):
        r = await client.request(method, path, headers=member, json={"secret": "x"})
        assert r.status_code == 403, path
    r = await client.post("/members", json={"email": "x@example.com", "role": "admin"}, headers=member)
    assert r.status_code == 403
    assert (await client.get("/invitations", headers=member)).status_code == 403

    # An existing account joins a second organization by accepting while signed in, and picks it at login.
    r = await client.post("/members", json={"email": "bia@example.com", "role": "admin"}, headers=b.headers)
    assert r.status_code == 201
    r = await client.post("/invitations/accept", json={"token": r.json()["token"]}, headers=member)
    assert r.status_code == 200 and r.json()["role"] == "admin" and r.json()["organization"]["id"] == b.org_id
    login_b = await client.post(
        "/auth/login", json={"email": "bia@example.com", "password": PASSWORD, "organizationId": b.org_id}
    )
    me_b = (await client.get("/auth/me", headers=_bearer(login_b.json()["accessToken"]))).json()
    assert me_b["role"] == "admin" and me_b["organization"]["id"] == b.org_id

    # B cannot remove A's member (404); A cannot remove or demote its owner; A removes its member.
    owner_id = next(
        m["id"] for m in (await client.get("/members", headers=a.headers)).json()["items"] if m["role"] == "owner"
    )
    r = await client.delete(f"/members/{owner_id}", headers=b.headers)
    assert r.status_code == 404
    assert (await client.delete(f"/members/{owner_id}", headers=a.headers)).status_code == 403
    assert (await client.put(f"/members/{owner_id}", json={"role": "member"}, headers=a.headers)).status_code == 403
    assert (await client.put(f"/members/{member_id}", json={"role": "admin"}, headers=b.headers)).status_code == 200
    assert (await client.put(f"/members/{member_id}", json={"role": "admin"}, headers=a.headers)).json()["role"] == (
        "admin"
    )
    assert (await client.delete(f"/members/{member_id}", headers=a.headers)).status_code == 200
    r = await client.post(
        "/auth/login", json={"email": "bia@example.com", "password": PASSWORD, "organizationId": a.org_id}
    )
    assert r.status_code == 403
