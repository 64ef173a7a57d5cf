"""Seed 001's `/ws` ("Manual de Integração WebSocket"): the handshake and every refusal, without LiveKit.

From the manual: the client connects to `/ws`, and "Imediatamente após conectar, o cliente DEVE enviar um
frame JSON contendo a chave de API"; on error "O servidor fecha a conexão com Code 4001 (Close Reason:
API Key Invalida)". Escuta's own codes (audio, size, pace, no LiveKit) are in docs/compatibility.md.
The end-to-end path through a LiveKit room is tests/compat/test_seed001_ws_livekit.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import httpx
import pytest

from tests.accounts.helpers import new_client_org, register, register_device
from tests.compat.balto import Device, closed_with, silence, speech, wav_stream, webm_opus
from tests.conftest import TEST_ADMIN_TOKEN, make_settings
from tests.e2e import api_at
from tests.transcription.speech import SR

INVALID_KEY = (4001, "API Key Invalida")


@pytest.fixture
async def api(database_url: str, db_pool: asyncpg.Pool) -> AsyncIterator[str]:
    # No LiveKit server listens on port 9: the bridge's bounded wait is what is tested there.
    settings = make_settings(
        database_url=database_url,
        livekit_url="ws://127.0.0.1:9",
        counter_ws_first_frame_timeout_seconds=1.0,
        counter_ws_connect_timeout_seconds=2.0,
        counter_ws_max_backlog_seconds=4.0,
        counter_ws_max_frame_bytes=65_536,
        api_ws_max_message_bytes=262_144,
    )
    async with api_at("127.0.0.1", settings, db_pool) as base:
        yield base


@pytest.fixture
async def http(api: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api) as c:
        yield c


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def ws_url(api: str) -> str:
    return api.replace("http://", "ws://") + "/ws"


async def device_key(http: httpx.AsyncClient) -> dict[str, str]:
    """A device registered the seed's way: /cadastro/cliente (platform admin), then /cadastro/balcao."""
    code = await new_client_org(http, {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"})
    return await register_device(http, code)


async def test_missing_key_closes_4001(api: str, session: aiohttp.ClientSession) -> None:
    assert await closed_with(session, ws_url(api), json.dumps({})) == INVALID_KEY
    assert await closed_with(session, ws_url(api), json.dumps({"api_key": ""})) == INVALID_KEY


async def test_nothing_sent_closes_4001_after_the_first_frame_timeout(api: str, session: aiohttp.ClientSession) -> None:
    started = time.perf_counter()
    assert await closed_with(session, ws_url(api)) == INVALID_KEY
    assert 0.9 < time.perf_counter() - started < 5


async def test_wrong_key_closes_4001(api: str, session: aiohttp.ClientSession) -> None:
    wrong = json.dumps({"api_key": "bk_" + "0" * 60})
    assert await closed_with(session, ws_url(api), wrong) == INVALID_KEY


async def test_revoked_key_closes_4001(api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession) -> None:
    org = await register(http)
    r = await http.post("/cadastro/codigo", headers=org.headers)
    device = await register_device(http, r.json()["codigo"])
    assert (await http.delete(f"/devices/{device['balcao_id']}", headers=org.headers)).status_code == 200
    assert await closed_with(session, ws_url(api), json.dumps({"api_key": device["api_key"]})) == INVALID_KEY


async def test_publishable_key_closes_4001(api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession) -> None:
    org = await register(http)
    r = await http.post(
        "/keys/publishable", json={"name": "site", "allowedOrigins": ["https://a.example"]}, headers=org.headers
    )
    assert await closed_with(session, ws_url(api), json.dumps({"api_key": r.json()["key"]})) == INVALID_KEY


async def test_binary_first_closes_4001(api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession) -> None:
    device = await device_key(http)
    # Even a right key, sent as a binary frame, is "anything else first".
    assert await closed_with(session, ws_url(api), json.dumps({"api_key": device["api_key"]}).encode()) == INVALID_KEY
    assert await closed_with(session, ws_url(api), wav_stream(silence(0.5))[0]) == INVALID_KEY


async def test_text_garbage_first_closes_4001(api: str, session: aiohttp.ClientSession) -> None:
    for garbage in ("hello", "[1, 2]", '"bk_x"', "{", json.dumps({"apiKey": "bk_x"})):
        assert await closed_with(session, ws_url(api), garbage) == INVALID_KEY, garbage


async def test_organization_without_counter_solution_closes_4003(
    api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    org = await register(http)  # made by /auth/register: no counter solution
    r = await http.post("/cadastro/codigo", headers=org.headers)
    device = await register_device(http, r.json()["codigo"])
    code = await closed_with(session, ws_url(api), json.dumps({"api_key": device["api_key"]}))
    assert code == (4003, "Solucao de balcao nao configurada")


async def test_oversize_frame_closes_1009(api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession) -> None:
    device = await device_key(http)
    big = b"\x00" * 70_000  # over the test's 64 KiB limit
    code = await closed_with(session, ws_url(api), json.dumps({"api_key": device["api_key"]}), big)
    assert code == (1009, "Frame muito grande")


async def test_oversize_text_frame_closes_1009(
    api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    # Issue 14.4: text frames (feedback answers) are held to the same limit as audio frames.
    device = await device_key(http)
    big = json.dumps({"comando": "feedback", "id": "x" * 70_000, "feedback": "aceito"})
    code = await closed_with(session, ws_url(api), json.dumps({"api_key": device["api_key"]}), big)
    assert code == (1009, "Frame muito grande")


async def test_message_over_the_servers_limit_closes_1009(
    api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    # Over ESCUTA_API_WS_MAX_MESSAGE_BYTES the server's WebSocket layer closes before buffering the message.
    device = await device_key(http)
    code, reason = await closed_with(session, ws_url(api), json.dumps({"api_key": device["api_key"]}), b"\0" * 300_000)
    assert code == 1009 and reason != "Frame muito grande", reason  # not the route's own check: it never ran


async def test_faster_than_real_time_closes_4029(
    api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    device = await device_key(http)
    async with session.ws_connect(ws_url(api)) as ws:
        dev = Device(ws)
        dev.start()
        await ws.send_str(json.dumps({"api_key": device["api_key"]}))
        # 12 s of audio in a burst: more than the 4 s backlog the test allows, long before LiveKit's wait ends.
        for chunk in wav_stream(silence(12.0)):
            if ws.closed:
                break
            await ws.send_bytes(chunk)
            await asyncio.sleep(0.01)
        assert await dev.closed(10) == 4029
        assert dev.close_reason == "Audio acima do tempo real"


async def test_undecodable_stream_closes_4002(
    api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    device = await device_key(http)
    async with session.ws_connect(ws_url(api)) as ws:
        dev = Device(ws)
        dev.start()
        await ws.send_str(json.dumps({"api_key": device["api_key"]}))
        await ws.send_bytes(b"\x1a\x45\xdf\xa3" + b"\xff" * 4000)  # an EBML magic, then nothing WebM
        for _ in range(20):
            await asyncio.sleep(0.1)
            if ws.closed:
                break
            await ws.send_bytes(b"\xff" * 1000)
        assert await dev.closed(10) == 4002
        assert dev.close_reason == "Audio invalido"


async def test_without_livekit_audio_is_accepted_then_closed_1013(
    api: str, http: httpx.AsyncClient, session: aiohttp.ClientSession
) -> None:
    device = await device_key(http)
    async with session.ws_connect(ws_url(api)) as ws:
        dev = Device(ws)
        dev.start()
        await ws.send_str(json.dumps({"api_key": device["api_key"]}))
        started = time.perf_counter()
        # 1.5 s of real-time WebM/Opus while the bridge waits (2 s) for the room: buffered, not refused.
        sent = await dev.stream(webm_opus(speech("Estou com dor de cabeça desde cedo")[: 3 * SR // 2]))
        assert not ws.closed or time.perf_counter() - started >= 1.9, "closed before the bounded wait"
        assert await dev.closed(10) == 1013
        assert dev.close_reason == "LiveKit indisponivel"
        assert 1.9 < time.perf_counter() - started < 8 and sent
