"""Issue 14.1: sign-up, invitation and login answers do not tell whether an e-mail has an account.

Same status and the same body (apart from echoing what the caller sent) for a taken and a free e-mail.
Timing is equalised by hashing or verifying a password either way; it is measured by
bench/enumeration.py, not asserted here.
"""

from __future__ import annotations

import httpx

from tests.accounts.helpers import PASSWORD, register


async def test_sign_up_answers_alike(client: httpx.AsyncClient) -> None:
    taken = await register(client, "Taken")
    answers = []
    for email in (taken.email, "free-address@example.com"):
        r = await client.post("/auth/register", json={"email": email, "password": PASSWORD, "organizationName": "X"})
        answers.append((r.status_code, {k: v for k, v in r.json().items() if k != "email"}))
    assert (
        answers[0] == answers[1] == (202, {"status": "accepted", "organizationName": "X", "next": "POST /auth/login"})
    )


async def test_login_answers_alike(client: httpx.AsyncClient) -> None:
    taken = await register(client, "Taken")
    wrong = await client.post("/auth/login", json={"email": taken.email, "password": "not it"})
    unknown = await client.post("/auth/login", json={"email": "nobody@example.com", "password": "not it"})
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
    assert wrong.status_code == 401


async def test_invitation_answers_alike(client: httpx.AsyncClient) -> None:
    taken = await register(client, "Taken")
    org = await register(client, "Inviter")
    answers = []
    for email in (taken.email, "free-address@example.com"):
        r = await client.post("/members", json={"email": email, "role": "member"}, headers=org.headers)
        body = r.json()
        answers.append((r.status_code, sorted(body), body["status"], body["role"], body["sent"]))
    assert answers[0] == answers[1]
    assert answers[0][0] == 201
