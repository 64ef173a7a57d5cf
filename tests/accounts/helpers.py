"""Factories for the account tests: organizations with an owner, devices, solutions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

PASSWORD = "correct horse battery staple"


@dataclass
class Org:
    org_id: str
    email: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def register(client: httpx.AsyncClient, name: str = "Rede Pharma") -> Org:
    """Sign up (the answer says nothing about the account, issue 14), then log in as the new owner."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    r = await client.post(
        "/auth/register", json={"email": email, "password": PASSWORD, "organizationName": name, "name": "Ana"}
    )
    assert r.status_code == 202, r.text
    r = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    tokens = r.json()
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['accessToken']}"})
    return Org(me.json()["organization"]["id"], email, tokens["accessToken"], tokens["refreshToken"])


async def invite_and_join(
    client: httpx.AsyncClient, org: Org, email: str, role: str = "member", password: str = PASSWORD
) -> dict[str, Any]:
    """``org`` invites ``email``; the invitee accepts by choosing a password (a new account). The
    acceptance answer: a token pair in ``org``, plus ``organization`` and ``role``."""
    r = await client.post("/members", json={"email": email, "role": role}, headers=org.headers)
    assert r.status_code == 201, r.text
    r = await client.post("/invitations/accept", json={"token": r.json()["token"], "password": password})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def put_solution(client: httpx.AsyncClient, org: Org, name: str = "AiHelper", profile: str = "balcao") -> None:
    r = await client.put(f"/solutions/{name}", json={"profile": profile}, headers=org.headers)
    assert r.status_code == 200, r.text


async def new_client_org(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> str:
    """Seed 001's /cadastro/cliente: the 6-digit link code."""
    r = await client.post(
        "/cadastro/cliente",
        json={"email": "contato@redepharma.com", "razao_social": "Rede Pharma LTDA", "telefone": "11999998888"},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    code: str = r.json()["codigo"]
    return code


async def register_device(client: httpx.AsyncClient, code: str, name: str = "Balcão Entrada 01") -> dict[str, Any]:
    r = await client.post("/cadastro/balcao", json={"nome_balcao": name, "user_codigo": code})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def device_for_org(client: httpx.AsyncClient, org: Org) -> dict[str, Any]:
    """A device registered under ``org`` with a link code its owner issued."""
    r = await client.post("/cadastro/codigo", headers=org.headers)
    assert r.status_code == 201, r.text
    return await register_device(client, r.json()["codigo"])


def token_body(org_id: str, solution: str = "AiHelper", user: str = "Daniel") -> dict[str, str]:
    return {"solution": solution, "clientId": org_id, "userId": user}


@asynccontextmanager
async def from_address(app: FastAPI, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` whose requests arrive from ``ip`` (the ASGI ``client``, what the limits key on).

    The app takes the source from the connection, not from ``X-Forwarded-For`` (uvicorn's proxy-header
    settings decide that in production), so varying the connection's address is the honest way.
    """
    transport = httpx.ASGITransport(app=app, client=(ip, 40_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
