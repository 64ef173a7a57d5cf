"""Seed 000's `GET /new` and `POST /stt`: the caller's organization only, never a provider key from the frontend."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator

import asyncpg
import httpx
import jwt
import numpy as np
import pytest

from control_api.app import create_app
from tests.accounts.helpers import device_for_org, put_solution, register
from tests.conftest import TEST_LK_SECRET
from tests.stt_stubs.fixtures import stub_settings
from tests.stt_stubs.server import SttStubServer


def wav(seconds: float, rate: int = 48000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (6000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


@pytest.fixture
async def stt_client(
    stt_stub: SttStubServer, database_url: str, db_pool: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    settings = stub_settings(stt_stub, database_url=database_url, stt_providers=["openai"])
    app = create_app(settings, pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def test_new_mints_an_avatar_token_for_the_callers_org(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    a, b = await register(client, "A"), await register(client, "B")
    assert (await client.get("/new", headers=a.headers)).status_code == 404  # no avatar solution yet
    await put_solution(client, a, "Meet", "transcription")
    await put_solution(client, a, "Lia", "avatar")
    assert (await client.get("/new", headers=a.headers)).json()["error"]["code"] == "insufficient_credits"
    await client.post("/credits/grants", json={"orgId": a.org_id, "amount": "10"}, headers=admin_headers)
    # Issue 15: without the organization's own LiveAvatar key, refused before any token is minted.
    r = await client.get("/new", headers=a.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "missing_liveavatar_key")
    assert "token" not in r.json()
    r = await client.put("/credentials/liveavatar", json={"secret": "la-key-0123456789"}, headers=a.headers)
    assert r.status_code == 200, r.text
    device = await device_for_org(client, a)
    r = await client.get("/new", params={"userId": "kiosk-1"}, headers={"X-API-Key": device["api_key"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["room"] == f"Lia-{a.org_id}-kiosk-1" and body["url"] and body["token"]
    claims = jwt.decode(body["token"], TEST_LK_SECRET, algorithms=["HS256"], options={"verify_aud": False})
    dispatch = claims["roomConfig"]["agents"][0]["metadata"]
    assert '"profile": "avatar"' in dispatch and a.org_id in dispatch
    assert (await client.get("/new", params={"solution": "Meet"}, headers=a.headers)).status_code == 404
    # B has no avatar solution; A's is not reachable with B's credential, nor without any.
    assert (await client.get("/new", params={"solution": "Lia"}, headers=b.headers)).status_code == 404
    assert (await client.get("/new")).status_code == 401


async def test_stt_uses_the_orgs_own_chain(stt_client: httpx.AsyncClient, stt_stub: SttStubServer) -> None:
    a, b = await register(stt_client, "A"), await register(stt_client, "B")
    await stt_client.put("/credentials/openai", json={"secret": stt_stub.keys["openai"]}, headers=a.headers)
    r = await stt_client.post("/stt", content=wav(1.5), headers={**a.headers, "Content-Type": "audio/wav"})
    assert r.status_code == 200, r.text
    assert r.json() == {"text": "openai heard 1.5 seconds", "provider": "openai", "seconds": 1.5}
    # The same file as a form upload (seed 000's frontend).
    files = {"audio": ("fala.wav", wav(0.5), "audio/wav")}
    r = await stt_client.post("/stt", files=files, headers=a.headers)
    assert r.status_code == 200 and r.json()["text"] == "openai heard 0.5 seconds"
    assert [c.authorized for c in stt_stub.calls] == [True, True]
    # B has no key: refused, and A's key is never used for it.
    r = await stt_client.post("/stt", content=wav(1.0), headers=b.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "missing_credential")
    assert len(stt_stub.calls) == 2
    r = await stt_client.post("/stt", content=b"not audio at all", headers=a.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_audio")
    assert (await stt_client.post("/stt", content=wav(1.0))).status_code == 401
