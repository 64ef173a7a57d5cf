"""Issue 14.3: Argon2 and CSV parsing run in the bounded CPU pool (core/offload.py), not on the event loop.

With every CPU thread held busy, a login (or sign-up, invitation acceptance, catalog import) must wait for the
pool while another request is answered meanwhile; once the pool is free it completes as usual. Before
the fix the hash ran on the event loop: the login finished regardless of the pool, and nothing else was
served during its ~150 ms.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.accounts.helpers import PASSWORD, register
from tests.cpu_pool import cpu_pool_held, still_pending


async def test_login_and_register_hash_off_the_loop(client: httpx.AsyncClient) -> None:
    org = await register(client)
    async with cpu_pool_held():
        login = asyncio.create_task(client.post("/auth/login", json={"email": org.email, "password": PASSWORD}))
        wrong = asyncio.create_task(client.post("/auth/login", json={"email": org.email, "password": "wrong-pw-123"}))
        body = {"email": "new-owner@example.com", "password": PASSWORD, "organizationName": "Nova"}
        signup = asyncio.create_task(client.post("/auth/register", json=body))
        assert (await client.get("/health")).status_code == 200
        for task in (login, wrong, signup):
            assert await still_pending(task)
    assert (await login).status_code == 200
    assert (await wrong).status_code == 401
    assert (await signup).status_code == 202  # sign-up answers alike for every e-mail (issue 14.1)


async def test_accepting_an_invitation_hashes_off_the_loop(client: httpx.AsyncClient) -> None:
    org = await register(client)
    invited = await client.post("/members", json={"email": "clerk@example.com", "role": "member"}, headers=org.headers)
    assert invited.status_code == 201, invited.text
    body = {"token": invited.json()["token"], "password": PASSWORD}
    async with cpu_pool_held():
        accept = asyncio.create_task(client.post("/invitations/accept", json=body))
        assert (await client.get("/health")).status_code == 200
        assert await still_pending(accept)
    r = await accept
    assert r.status_code == 200, r.text


async def test_catalog_csv_is_parsed_off_the_loop(client: httpx.AsyncClient) -> None:
    org = await register(client)
    csv = "nome,principios_ativos,preco\n" + "".join(f"Produto {i},dipirona,{i}.50\n" for i in range(2000))
    headers = {**org.headers, "Content-Type": "text/csv"}
    async with cpu_pool_held():
        upload = asyncio.create_task(
            client.post("/catalog/import", params={"dry_run": "true"}, content=csv, headers=headers)
        )
        assert (await client.get("/health")).status_code == 200
        assert await still_pending(upload)
    r = await upload
    assert r.status_code == 200 and r.json()["valid_rows"] == 2000, r.text


# CPU-heavy functions that the API must only hand to `core.offload.run_cpu` (or use through their
# `_async` forms), never call directly: a direct call runs on the event loop.
CPU_BOUND = {"hash_password", "verify_password", "parse_csv", "decode_16k_mono"}


def test_the_api_never_calls_cpu_bound_functions_on_the_loop() -> None:
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "control_api"
    direct = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in CPU_BOUND:
                    direct.append(f"{path.relative_to(root.parent)}:{node.lineno} {name}()")
    assert direct == [], "call these through core.offload.run_cpu: " + ", ".join(direct)
