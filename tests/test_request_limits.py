"""Issue 14.4: every request body has a limit, enforced while it arrives (control_api/limits.py).

Bodies are sent from generators that count what the API pulled: an oversized body must be refused
after at most the limit (plus a chunk), never read whole, with or without a Content-Length.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.accounts.helpers import register
from tests.conftest import make_settings

CHUNK = 16 * 1024


class CountingBody:
    """An async body of `total` bytes in CHUNK pieces, counting how many bytes the server pulled."""

    def __init__(self, total: int, piece: bytes = b"x") -> None:
        self.total = total
        self.piece = (piece * (CHUNK // len(piece) + 1))[:CHUNK]
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            chunk = self.piece[: self.total - self.pulled]
            self.pulled += len(chunk)
            yield chunk


def assert_413(r: httpx.Response, limit: int) -> None:
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert error["code"] == "payload_too_large" and str(limit) in error["message"]


async def test_declared_oversized_login_is_refused_before_reading(client: httpx.AsyncClient) -> None:
    # The finding: an unauthenticated 100 MB POST /auth/login (250 MB of RSS before the fix).
    body = CountingBody(100 * 1024 * 1024)
    headers = {"Content-Type": "application/json", "Content-Length": str(body.total)}
    r = await client.post("/auth/login", content=body, headers=headers)
    assert_413(r, 65536)
    assert body.pulled <= CHUNK  # nothing read (httpx may have primed one chunk)


async def test_chunked_oversized_login_is_refused_at_the_limit(client: httpx.AsyncClient) -> None:
    body = CountingBody(100 * 1024 * 1024)  # no Content-Length: chunked transfer
    r = await client.post("/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert_413(r, 65536)
    assert r.headers.get("connection") == "close"
    assert body.pulled <= 65536 + 2 * CHUNK


async def test_normal_requests_are_unaffected(client: httpx.AsyncClient) -> None:
    org = await register(client)
    r = await client.post("/auth/login", json={"email": org.email, "password": "wrong-password-1"})
    assert r.status_code == 401
    # A catalog upload far over the JSON default, but within the CSV limit, streamed without a length.
    header = b"nome,principios_ativos,indicacoes,exige_receita,preco\n"
    rows = b"".join(b"Produto %d,dipirona,dor|febre,nao,8.50\n" % i for i in range(12000))
    assert len(header + rows) > 4 * 65536

    async def csv() -> AsyncIterator[bytes]:
        data = header + rows
        for i in range(0, len(data), CHUNK):
            yield data[i : i + CHUNK]

    r = await client.post(
        "/catalog/import",
        params={"dry_run": "true"},
        content=csv(),
        headers={**org.headers, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["valid_rows"] == 12000


async def test_oversized_catalog_is_refused_while_reading(client: httpx.AsyncClient, settings: object) -> None:
    org = await register(client)
    limit = 5 * 1024 * 1024
    body = CountingBody(limit * 4, b"nome\nproduto\n")
    r = await client.post("/catalog/import", content=body, headers={**org.headers, "Content-Type": "text/csv"})
    assert_413(r, limit)
    assert body.pulled <= limit + 2 * CHUNK


async def test_webhook_oversized_is_refused_before_the_signature(client: httpx.AsyncClient) -> None:
    # A bogus signature would answer 401 once checked: 413 shows the check (and the read) never happened.
    headers = {"Authorization": "not-a-jwt", "Content-Type": "application/webhook+json"}
    body = CountingBody(50 * 1024 * 1024, b'{"event":"room_started"}')
    r = await client.post("/livekit/webhook", content=body, headers=headers)
    assert_413(r, 1024 * 1024)
    assert body.pulled <= 1024 * 1024 + 2 * CHUNK
    declared = CountingBody(50 * 1024 * 1024)
    r = await client.post("/livekit/webhook", content=declared, headers={**headers, "Content-Length": "52428800"})
    assert_413(r, 1024 * 1024)
    assert declared.pulled <= CHUNK
    # Within the limit, the signature is checked as before.
    r = await client.post("/livekit/webhook", content=b'{"event":"room_started"}', headers=headers)
    assert r.status_code == 401


@pytest.mark.parametrize("limit", [4096])
async def test_limits_come_from_settings(database_url: str, db_pool: object, limit: int) -> None:
    from control_api.app import create_app

    app = create_app(make_settings(database_url=database_url, api_max_body_bytes=limit), pool=db_pool)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.post(
            "/auth/login", content=b"{" + b" " * limit + b"}", headers={"Content-Type": "application/json"}
        )
        assert_413(r, limit)
        r = await c.post("/auth/login", json={"email": "nobody@example.com", "password": "x" * 100})
        assert r.status_code == 401
