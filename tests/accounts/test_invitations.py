"""Issue 14.1: membership only by invitation, accepted by whoever proves control of the account.

Each finding first: a squatter who registered the e-mail before the admin "added" it, and an account
pre-created by another organization's admin, must not become members; a demoted or removed member
loses the role on the next request, not at access-token expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests.accounts.helpers import PASSWORD, Org, invite_and_join, put_solution, register, token_body

SQUATTER_PASSWORD = "the squatter's own password"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _login(client: httpx.AsyncClient, email: str, password: str, org: Org | None = None) -> httpx.Response:
    body: dict[str, str] = {"email": email, "password": password}
    if org is not None:
        body["organizationId"] = org.org_id
    return await client.post("/auth/login", json=body)


async def _member_emails(client: httpx.AsyncClient, org: Org) -> set[str]:
    return {m["email"] for m in (await client.get("/members", headers=org.headers)).json()["items"]}


async def test_a_squatter_who_registered_first_does_not_become_a_member(client: httpx.AsyncClient) -> None:
    """Before: `POST /members {email, role: admin, password}` bound the squatter's existing account."""
    victim = "diretora@redepharma.com.br"
    r = await client.post(
        "/auth/register", json={"email": victim, "password": SQUATTER_PASSWORD, "organizationName": "Squat"}
    )
    assert r.status_code == 202
    org = await register(client, "Rede Pharma")
    r = await client.post(
        "/members", json={"email": victim, "role": "admin", "password": "the admin's choice"}, headers=org.headers
    )
    assert r.status_code == 201
    r = await _login(client, victim, SQUATTER_PASSWORD, org)
    assert r.status_code == 403 and r.json()["error"]["code"] == "no_organization"
    assert victim not in await _member_emails(client, org)
    r = await _login(client, victim, "the admin's choice", org)  # the password in the body is not set
    assert r.status_code == 401
    r = await client.post("/members", json={"email": victim, "role": "admin"}, headers=org.headers)
    assert r.json()["status"] == "pending"


async def test_an_account_pre_created_by_another_org_admin_does_not_join(client: httpx.AsyncClient) -> None:
    """Another organization's admin creates the account (and so knows its password) before A invites it."""
    victim = "farmaceutico@example.com"
    other = await register(client, "Other")
    await invite_and_join(client, other, victim, "member", password=SQUATTER_PASSWORD)  # other's admin accepts
    a = await register(client, "A")
    r = await client.post("/members", json={"email": victim, "role": "admin"}, headers=a.headers)
    assert r.status_code == 201
    r = await _login(client, victim, SQUATTER_PASSWORD, a)
    assert r.status_code == 403
    assert victim not in await _member_emails(client, a)
    # Signed in as that account but without A's invitation token, nothing to accept.
    squatter = _bearer((await _login(client, victim, SQUATTER_PASSWORD)).json()["accessToken"])
    r = await client.post("/invitations/accept", json={"token": "inv_guessed"}, headers=squatter)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_invitation"


async def test_the_invited_person_accepts_by_proving_control(client: httpx.AsyncClient) -> None:
    org = await register(client, "A")
    existing = await register(client, "Elsewhere")  # an account that already exists
    r = await client.post("/members", json={"email": existing.email.upper(), "role": "admin"}, headers=org.headers)
    invitation = r.json()
    assert invitation["token"].startswith("inv_") and invitation["link"].endswith(invitation["token"])
    # Someone else's login is refused; a wrong password for the invited account too.
    stranger = await register(client, "Stranger")
    r = await client.post("/invitations/accept", json={"token": invitation["token"]}, headers=stranger.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_account"
    r = await client.post("/invitations/accept", json={"token": invitation["token"], "password": "not the password"})
    assert r.status_code == 401
    r = await client.post("/invitations/accept", json={"token": invitation["token"]})
    assert r.status_code == 400 and "password" in r.json()["error"]["message"]
    # The account's holder, signed in, accepts: they are an admin of A at once.
    r = await client.post("/invitations/accept", json={"token": invitation["token"]}, headers=existing.headers)
    assert r.status_code == 200, r.text
    accepted = r.json()
    assert accepted["role"] == "admin" and accepted["organization"]["id"] == org.org_id
    me = (await client.get("/auth/me", headers=_bearer(accepted["accessToken"]))).json()
    assert me["organization"]["id"] == org.org_id and me["email"] == existing.email
    # One time only.
    r = await client.post("/invitations/accept", json={"token": invitation["token"]}, headers=existing.headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_invitation"


async def test_list_revoke_replace_and_expire(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await register(client, "A")
    b = await register(client, "B")
    first = (await client.post("/members", json={"email": "c@example.com", "role": "member"}, headers=a.headers)).json()
    second = (await client.post("/members", json={"email": "c@example.com", "role": "admin"}, headers=a.headers)).json()
    other = (await client.post("/members", json={"email": "d@example.com", "role": "member"}, headers=a.headers)).json()
    listed = (await client.get("/invitations", headers=a.headers)).json()["items"]
    # Inviting again replaced the first invitation; tokens are never listed.
    assert {i["id"] for i in listed} == {second["id"], other["id"]}
    assert all("token" not in i for i in listed) and listed[0]["invitedBy"].startswith("user:")
    assert (await client.get("/invitations", headers=b.headers)).json()["items"] == []
    r = await client.post("/invitations/accept", json={"token": first["token"], "password": PASSWORD})
    assert r.status_code == 400
    # Another organization cannot revoke A's invitation; A can, and it stops working.
    assert (await client.delete(f"/invitations/{other['id']}", headers=b.headers)).status_code == 404
    assert (await client.delete(f"/invitations/{other['id']}", headers=a.headers)).status_code == 200
    r = await client.post("/invitations/accept", json={"token": other["token"], "password": PASSWORD})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_invitation"
    # Expired: refused alike.
    async with db_pool.acquire() as conn:
        await conn.execute(
            "UPDATE invitations SET expires_at = $1 WHERE id = $2",
            datetime.now(UTC) - timedelta(seconds=1),
            second["id"],
        )
        stored = await conn.fetchval("SELECT count(*) FROM invitations WHERE token_hash = $1", second["token"].encode())
        assert stored == 0  # only its digest is kept
    r = await client.post("/invitations/accept", json={"token": second["token"], "password": PASSWORD})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_invitation"
    assert (await client.get("/invitations", headers=a.headers)).json()["items"] == []


async def test_a_demoted_admin_loses_the_role_at_once(client: httpx.AsyncClient) -> None:
    """Before: the role was read from the access token, valid for 15 minutes after a demotion."""
    org = await register(client, "A")
    joined = await invite_and_join(client, org, "gerente@example.com", "admin")
    admin = _bearer(joined["accessToken"])
    assert (await client.get("/devices", headers=admin)).status_code == 200
    user_id = (await client.get("/auth/me", headers=admin)).json()["id"]
    assert (await client.put(f"/members/{user_id}", json={"role": "member"}, headers=org.headers)).status_code == 200
    # The same, unexpired access token: admin routes now answer 403.
    for method, path in (("GET", "/devices"), ("GET", "/invitations"), ("POST", "/cadastro/codigo")):
        r = await client.request(method, path, headers=admin)
        assert r.status_code == 403, path
    r = await client.post("/members", json={"email": "x@example.com", "role": "admin"}, headers=admin)
    assert r.status_code == 403
    assert (await client.get("/auth/me", headers=admin)).json()["role"] == "member"
    assert (await client.get("/members", headers=admin)).status_code == 200  # still a member


async def test_a_removed_member_is_out_at_once(client: httpx.AsyncClient) -> None:
    org = await register(client, "A")
    await put_solution(client, org)
    joined = await invite_and_join(client, org, "ex@example.com", "member")
    token = _bearer(joined["accessToken"])
    assert (await client.post("/token", json=token_body(org.org_id), headers=token)).status_code == 200
    user_id = (await client.get("/auth/me", headers=token)).json()["id"]
    assert (await client.delete(f"/members/{user_id}", headers=org.headers)).status_code == 200
    for method, path in (("GET", "/members"), ("GET", "/sessions"), ("GET", "/solutions"), ("GET", "/auth/me")):
        r = await client.request(method, path, headers=token)
        assert r.status_code == 403 and r.json()["error"]["code"] == "not_a_member", path
    r = await client.post("/token", json=token_body(org.org_id), headers=token)
    assert r.status_code == 403
    r = await client.post("/auth/refresh", json={"refreshToken": joined["refreshToken"]})
    assert r.status_code == 401


async def test_accepting_shares_the_login_limits(client: httpx.AsyncClient) -> None:
    """A leaked invitation token does not buy faster guessing of the invited account's password."""
    org = await register(client, "A")
    existing = await register(client, "B")
    token = (
        await client.post("/members", json={"email": existing.email, "role": "member"}, headers=org.headers)
    ).json()
    statuses = []
    for _ in range(3):
        r = await client.post("/auth/login", json={"email": existing.email, "password": "wrong one"})
        statuses.append(r.status_code)
    for _ in range(3):
        r = await client.post("/invitations/accept", json={"token": token["token"], "password": "wrong again"})
        statuses.append(r.status_code)
    assert statuses == [401] * 5 + [429]
    assert r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
