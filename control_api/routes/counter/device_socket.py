"""Seed 001's `/ws` ("Manual de Integração WebSocket"), for Balto counter devices in the field.

1. The first frame must be JSON ``{"api_key": "bk_..."}`` within ``ESCUTA_COUNTER_WS_FIRST_FRAME_TIMEOUT_SECONDS``.
   A wrong, revoked or missing key, a publishable key, or anything else first closes with code 4001 and
   reason ``API Key Invalida`` (seed 001's text, no accent). Escuta's addition: ``"atendente"`` in that
   frame names the clerk (default: the device's name).
2. Then binary frames: one continuous WebM/Opus (recommended), Ogg/Opus, WAV or raw PCM 16 kHz 16-bit
   mono stream, decoded as it arrives (control_api/services/device_audio.py) and published into the
   organization's counter room (control_api/services/device_bridge.py).
3. The server sends seed 001's JSON ``{"comando":"recomendar","produto","explicacao","transcricao_base",
   "atendente"}`` (plus ``id``). Escuta's addition: the device may answer ``{"comando":"feedback","id",
   "feedback":"aceito"|"rejeitado"}``; the answer is ``{"comando":"feedback","id","accepted","stored"}``.

Close codes: see `CLOSE` below and docs/compatibility.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket
from livekit import rtc
from starlette.websockets import WebSocketState

from control_api.errors import ApiError
from control_api.principals import Principal, principal_from_key
from control_api.services import rooms
from control_api.services.device_audio import StreamDecoder
from control_api.services.device_bridge import BridgeRegistry, BridgeTarget, BridgeUnavailable, DeviceBridge
from control_api.services.tokens import TokenBody, mint
from core.counter.wire import BRIDGE_ATTRIBUTE, MICROPHONE_ATTRIBUTE, SHARED_MICROPHONE
from core.naming import room_name
from core.settings import Settings
from db import devices, solutions
from db.tenancy import tenant_connection

router = APIRouter()
log = logging.getLogger("escuta.api.ws")

# (code, reason). 4001 is seed 001's; the others are Escuta's (4000-4999 are the application's range).
CLOSE = {
    "invalid_key": (4001, "API Key Invalida"),
    "invalid_audio": (4002, "Audio invalido"),
    "no_solution": (4003, "Solucao de balcao nao configurada"),
    "replaced": (4005, "Conexao substituida"),
    "too_fast": (4029, "Audio acima do tempo real"),
    "too_big": (1009, "Frame muito grande"),
    "livekit_down": (1013, "LiveKit indisponivel"),
    "internal": (1011, "Erro interno"),
}


class _Refused(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.code, self.reason = CLOSE[what]


def _registry(ws: WebSocket) -> BridgeRegistry:
    state = ws.app.state
    if getattr(state, "device_bridges", None) is None:
        state.device_bridges = BridgeRegistry()
    registry: BridgeRegistry = state.device_bridges
    return registry


async def _authenticate(ws: WebSocket, settings: Settings) -> tuple[Principal, dict[str, Any]]:
    try:
        first = await asyncio.wait_for(ws.receive(), settings.counter.ws_first_frame_timeout_seconds)
    except TimeoutError:
        raise _Refused("invalid_key") from None
    text = first.get("text")
    try:
        hello = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        hello = None
    key = hello.get("api_key") if isinstance(hello, dict) else None
    if not isinstance(key, str) or not key.startswith("bk_"):
        raise _Refused("invalid_key")
    try:
        principal = await principal_from_key(ws, key)
    except ApiError as exc:
        if exc.status >= 500:
            raise _Refused("internal") from None
        raise _Refused("invalid_key") from None
    if principal.kind != "device" or principal.device_id is None:
        raise _Refused("invalid_key")
    assert isinstance(hello, dict)
    return principal, hello


async def _target(ws: WebSocket, settings: Settings, principal: Principal, clerk: str | None) -> BridgeTarget:
    """The room and token `/token` would give this device for its organization's counter solution."""
    pool = ws.app.state.pool
    org, device_id = principal.org_id, principal.device_id
    assert device_id is not None
    async with tenant_connection(pool, org) as conn:
        solution = await solutions.counter_solution(conn, org)
        found = await devices.list_devices(conn, org, device_id)
    if solution is None:
        raise _Refused("no_solution")
    profile = await rooms.solution_profile(ws.app.state, pool, org, solution)
    client_id = await rooms.org_client_id(ws.app.state, pool, org) or str(org)
    user_id = str(device_id)  # unique and stable: a reconnecting device finds the same room
    room = room_name(solution, client_id, user_id)
    try:
        await rooms.register_room(ws.app.state, pool, org, room, solution, profile or "counter")
    except ApiError:
        raise _Refused("internal") from None
    name = clerk or (found[0]["name"] if found else user_id)
    body = TokenBody(solution=solution, clientId=client_id, userId=user_id)
    token = mint(
        settings,
        principal,
        body,
        room,
        profile or "counter",
        name=name,
        attributes={MICROPHONE_ATTRIBUTE: SHARED_MICROPHONE, BRIDGE_ATTRIBUTE: "balto-ws"},
    )
    return BridgeTarget(settings.livekit.url, token, room, room, org, device_id)


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state != WebSocketState.DISCONNECTED and ws.client_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(Exception):
            await ws.close(code, reason)


@router.websocket("/ws")
async def device_socket(ws: WebSocket) -> None:
    settings: Settings = ws.app.state.settings
    await ws.accept()
    try:
        principal, hello = await _authenticate(ws, settings)
        clerk = hello.get("atendente") if isinstance(hello.get("atendente"), str) else None
        target = await _target(ws, settings, principal, (clerk or "").strip()[:128] or None)
    except _Refused as refused:
        log.info("ws refused (%s): source=%s", refused.reason, ws.client.host if ws.client else "?")
        await _close(ws, refused.code, refused.reason)
        return
    await _serve(ws, settings, target)


async def _serve(ws: WebSocket, settings: Settings, target: BridgeTarget) -> None:
    registry = _registry(ws)
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[tuple[int, str]] = loop.create_future()

    def end(what: str) -> None:
        if not ended.done():
            ended.set_result(CLOSE[what])

    async def send(text: str) -> None:
        await ws.send_text(text)

    async def close_from_bridge(code: int, reason: str) -> None:
        if not ended.done():
            ended.set_result((code, reason))

    bridge = registry.get(target.device_id)
    if bridge is None:
        bridge = DeviceBridge(target, settings.counter)
        registry.add(bridge)
        connecting: asyncio.Task[None] | None = asyncio.create_task(bridge.connect())
    else:
        connecting = None  # resumed: same room, same participant
    await bridge.attach(send, close_from_bridge)

    def on_connect_done(task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        if isinstance(task.exception(), BridgeUnavailable):
            end("livekit_down")
        else:
            log.error("ws bridge failed: %r", task.exception())
            end("internal")
        registry.forget(bridge)
        task.get_loop().create_task(bridge.aclose())

    if connecting is not None:
        connecting.add_done_callback(on_connect_done)

    def to_bridge(pcm: bytes) -> None:  # from the decoding thread
        loop.call_soon_threadsafe(bridge.push_pcm, pcm)

    decoder = StreamDecoder(
        to_bridge,
        max_buffered_bytes=settings.counter.ws_max_buffered_bytes,
    )
    try:
        await _receive_loop(ws, settings, bridge, decoder, ended, end)
    finally:
        decoder.finish()
        if ended.done():
            await _close(ws, *ended.result())
        if not bridge.closed:
            bridge.detach(send, registry.forget)


async def _receive_loop(
    ws: WebSocket,
    settings: Settings,
    bridge: DeviceBridge,
    decoder: StreamDecoder,
    ended: asyncio.Future[tuple[int, str]],
    end: Callable[[str], None],
) -> None:
    limits = settings.counter
    while not ended.done():
        receiving: asyncio.Future[Any] = asyncio.ensure_future(ws.receive())
        waiting: set[asyncio.Future[Any]] = {receiving, ended}
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if receiving not in done:
            receiving.cancel()
            return
        msg = receiving.result()
        if msg["type"] == "websocket.disconnect":
            return
        data = msg.get("bytes")
        if data is not None:
            if len(data) > limits.ws_max_frame_bytes:
                end("too_big")
            elif decoder.failed:
                end("invalid_audio")
            elif not decoder.feed(data) or bridge.backlog_seconds > limits.ws_max_backlog_seconds:
                end("too_fast")
            continue
        text = msg.get("text") or ""
        if len(text) > limits.ws_max_frame_bytes:  # feedback frames are tiny; uvicorn's ws_max_size bounds the rest
            end("too_big")
            continue
        await _text_frame(ws, bridge, text)
        if decoder.failed:
            end("invalid_audio")


async def _text_frame(ws: WebSocket, bridge: DeviceBridge, text: str) -> None:
    """Escuta's addition to seed 001: the clerk's feedback; anything else gets an error frame."""
    try:
        msg = json.loads(text)
    except ValueError:
        msg = None
    if not isinstance(msg, dict) or msg.get("comando") != "feedback" or not isinstance(msg.get("id"), str):
        await ws.send_text(json.dumps({"comando": "erro", "erro": "mensagem_invalida"}))
        return
    verdict = msg.get("feedback", msg.get("aceito"))
    try:
        answer = json.loads(await bridge.feedback(msg["id"], verdict))
    except rtc.RpcError as exc:
        await ws.send_text(json.dumps({"comando": "erro", "erro": "feedback_recusado", "mensagem": exc.message}))
        return
    await ws.send_text(json.dumps({"comando": "feedback", **answer}))
