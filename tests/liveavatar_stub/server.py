"""A LiveAvatar stub on 127.0.0.1, speaking the API that livekit-plugins-liveavatar calls.

REST (every answer in LiveAvatar's envelope ``{"code": 1000, "data": ..., "message": ...}``):

- ``POST /v1/sessions/token`` with ``X-API-KEY``: a wrong key is a 401 (the real service's reaction to
  a bad key, with code 401 inside the envelope too); an unknown avatar id is a 404 ``avatar not found``.
  Answers ``{"session_id", "session_token"}``.
- ``POST /v1/sessions/start`` with ``Authorization: Bearer <session_token>``: 201 with ``ws_url``
  pointing at this stub's websocket for that session. This is when the real service joins the LiveKit
  room from its own cloud, so the stub checks the ``livekit_config.livekit_url`` it was handed as that
  cloud would reach it: a loopback, private or reserved address, or a name that is not public DNS
  (``localhost``, a single label such as ``livekit``), is unreachable, and so is any URL other than
  ``livekit_url`` when the test sets it (the public URL it expects). An unreachable URL answers 400
  ``unable to join the LiveKit room`` and is recorded in ``unreachable_urls``.
- ``POST /v1/sessions/stop`` (bearer or ``X-API-KEY``) records the reason.

The websocket (LITE mode, JSON text frames) sends ``session.state_updated {"state": "connected"}``
first, then records every client event. Per turn it answers like the service: ``agent.speak_started``
at the turn's first ``agent.speak``, ``agent.speak_ended`` after ``agent.speak_end``, and
``agent.speak_interrupted`` after ``agent.interrupt``. The audio of each turn is decoded (base64 PCM
s16le mono 24 kHz) so tests can check that real speech arrived.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from tests.local_http import serve

SAMPLE_RATE = 24000


def reachable_from_outside(url: object) -> bool:
    """What a cloud service could connect to, judged without DNS: a global address or a dotted name."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("ws", "wss", "http", "https") or not host:
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return "." in host and host != "localhost" and not host.endswith((".localhost", ".local", ".internal"))


@dataclass
class StubSession:
    session_id: str
    token: str
    api_key: str
    avatar_id: str
    request: dict[str, Any]
    started: bool = False
    stopped_reason: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)  # client events, audio stripped
    turns: list[bytes] = field(default_factory=list)  # PCM per finished speaking turn
    current: bytearray = field(default_factory=bytearray)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def audio_seconds(self) -> float:
        total = sum(len(t) for t in self.turns) + len(self.current)
        return total / 2 / SAMPLE_RATE


@dataclass
class LiveAvatarStub:
    """Valid keys map to the avatar ids they own (``{"la-key": {"avatar-uuid"}}``)."""

    keys: dict[str, set[str]] = field(default_factory=dict)
    livekit_url: str | None = None  # the public LiveKit URL the test expects to be handed, if any
    sessions: dict[str, StubSession] = field(default_factory=dict)
    unreachable_urls: list[str] = field(default_factory=list)
    rejected_keys: list[str] = field(default_factory=list)  # hints only: never whole keys in output
    port: int = 0
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def api_url(self) -> str:
        """What ``AvatarSession(api_url=...)`` takes: the sessions base."""
        return f"http://127.0.0.1:{self.port}/v1/sessions"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/sessions/token", self._token)
        app.router.add_post("/v1/sessions/start", self._start)
        app.router.add_post("/v1/sessions/stop", self._stop)
        app.router.add_get("/v1/ws/{session_id}", self._ws)
        self._runner, self.port = await serve(app)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, predicate: Callable[[LiveAvatarStub], bool]) -> None:
        """Wait until ``predicate(self)`` holds: a condition, not a timed assertion (pytest-timeout bounds a hang)."""
        async with self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    @staticmethod
    def _envelope(data: Any, *, code: int = 1000, message: str = "success", status: int = 200) -> web.Response:
        return web.json_response({"code": code, "data": data, "message": message}, status=status)

    def _by_bearer(self, request: web.Request) -> StubSession | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return next((s for s in self.sessions.values() if secrets.compare_digest(s.token, token.strip())), None)

    async def _token(self, request: web.Request) -> web.Response:
        key = request.headers.get("X-API-KEY", "")
        if key not in self.keys:
            self.rejected_keys.append(key[:3] + "…")
            return self._envelope(None, code=401, message="Invalid API key", status=401)
        body = await request.json()
        if body.get("mode") != "LITE" or not isinstance(body.get("livekit_config"), dict):
            detail = [{"loc": ["body", "mode"], "msg": "LITE mode with livekit_config expected", "type": "value_error"}]
            return web.json_response({"detail": detail}, status=422)
        avatar_id = str(body.get("avatar_id", ""))
        if avatar_id not in self.keys[key]:
            return self._envelope(None, code=10013, message="avatar not found", status=404)
        session = StubSession(str(uuid.uuid4()), secrets.token_urlsafe(24), key, avatar_id, body)
        self.sessions[session.session_id] = session
        await self._notify()
        return self._envelope({"session_id": session.session_id, "session_token": session.token})

    async def _start(self, request: web.Request) -> web.Response:
        session = self._by_bearer(request)
        if session is None:
            return self._envelope(None, code=401, message="Invalid session token", status=401)
        cfg = session.request["livekit_config"]
        url = cfg.get("livekit_url")
        if not reachable_from_outside(url) or (self.livekit_url is not None and url != self.livekit_url):
            self.unreachable_urls.append(str(url))
            await self._notify()
            return self._envelope(None, code=400, message="unable to join the LiveKit room", status=400)
        session.started = True
        data = {
            "session_id": session.session_id,
            "livekit_url": cfg.get("livekit_url"),
            "livekit_client_token": cfg.get("livekit_client_token"),
            "livekit_agent_token": None,
            "max_session_duration": 600,
            "ws_url": f"ws://127.0.0.1:{self.port}/v1/ws/{session.session_id}",
        }
        await self._notify()
        return self._envelope(data, status=201)

    async def _stop(self, request: web.Request) -> web.Response:
        body = await request.json()
        session = self._by_bearer(request) or self.sessions.get(str(body.get("session_id")))
        if session is None or (request.headers.get("X-API-KEY") not in (None, session.api_key)):
            return self._envelope(None, code=401, message="Invalid credentials", status=401)
        session.stopped_reason = str(body.get("reason", "UNKNOWN"))
        await self._notify()
        return self._envelope(None)

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        session = self.sessions.get(request.match_info["session_id"])
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if session is None or not session.started:
            await ws.close(code=4004, message=b"unknown session")
            return ws
        await ws.send_json({"type": "session.state_updated", "state": "connected"})
        session.connected.set()
        await self._notify()
        speaking_task: str | None = None
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            event = json.loads(msg.data)
            kind = event.get("type")
            recorded = {k: v for k, v in event.items() if k != "audio"}
            if kind == "agent.speak":
                pcm = base64.b64decode(event.get("audio", ""))
                recorded["audio_bytes"] = len(pcm)
                session.current.extend(pcm)
                if speaking_task is None:
                    speaking_task = str(uuid.uuid4())
                    await ws.send_json(
                        {
                            "type": "agent.speak_started",
                            "event_id": event.get("event_id"),
                            "task": {"id": speaking_task},
                        }
                    )
            elif kind == "agent.speak_end":
                session.turns.append(bytes(session.current))
                session.current.clear()
                if speaking_task is not None:
                    await ws.send_json(
                        {"type": "agent.speak_ended", "event_id": event.get("event_id"), "task": {"id": speaking_task}}
                    )
                speaking_task = None
            elif kind == "agent.interrupt":
                session.current.clear()
                if speaking_task is not None:
                    await ws.send_json(
                        {
                            "type": "agent.speak_interrupted",
                            "event_id": event.get("event_id"),
                            "task": {"id": speaking_task},
                        }
                    )
                speaking_task = None
            session.events.append(recorded)
            await self._notify()
        await self._notify()
        return ws
