"""Seed 002's Socket.IO feedback for host frontends ("Feedback em Tempo Real": "Socket.IO: o anfitrião deve
ingressar na sala `feedback:<meetingId>`", event `feedback` with the seed's payload).

Mounted at `/socket.io/` (python-socketio, ASGI). A connection is authenticated with the host's access
token: the connect ``auth`` payload ``{"token": "<accessToken>"}`` (or ``accessToken``), or an
``Authorization: Bearer`` header; without a valid one the connection is refused. A host joins with
seed 002's demo event ``join-room`` (or ``join``) and the room name, ``"feedback:RM_123"`` or
``{"room": "feedback:RM_123"}``; the acknowledgement is ``{"ok": true, "room": ...}`` or ``{"ok": false,
"error": ...}``. Only members of the meeting's organization may join (another organization's meeting
answers ``not_found``, as the HTTP routes do). ``leave-room`` leaves; seed 002's demo ``message`` chat is
not served (its acknowledgement says ``not_supported``).

Delivery: the worker stores each feedback event; PostgreSQL NOTIFY (control_api/services/live_events.py)
tells every API process, and each emits ``feedback`` to its own sockets in that room. Inside a process
the room is keyed by organization too, so two organizations can never share one. The LiveKit text
stream on ``escuta.coach.feedback`` is unchanged.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from uuid import UUID

import socketio

from control_api.services.live_events import live_events
from core.security.tokens import InvalidToken, verify_access
from core.settings import Settings
from db import accounts as accounts_repo
from db import coach as coach_repo
from db import live
from db.tenancy import tenant_connection

log = logging.getLogger("escuta.api.socketio")

ROOM_PREFIX = "feedback:"
NAMESPACE = "/"


def _internal_room(org_id: UUID | str, meeting_id: str) -> str:
    return f"{org_id}:{ROOM_PREFIX}{meeting_id}"


def _token(environ: dict[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict):
        for key in ("token", "accessToken"):
            value = auth.get(key)
            if isinstance(value, str) and value:
                return value.removeprefix("Bearer ").strip()
    scheme, _, token = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _room_of(data: Any) -> str | None:
    room = data.get("room") if isinstance(data, dict) else data
    if not isinstance(room, str) or not room.startswith(ROOM_PREFIX):
        return None
    meeting = room.removeprefix(ROOM_PREFIX)
    if not 0 < len(meeting) <= 256 or "\x00" in meeting:
        return None
    return meeting


def build_socketio(state: Any, cors_origin_regex: str, *, max_message_bytes: int = 1_000_000) -> socketio.ASGIApp:
    """The Socket.IO server for one app (its settings, pool and live-events feed are read from ``state``)."""
    allowed = re.compile(cors_origin_regex)
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=lambda origin, _environ=None: bool(origin and allowed.fullmatch(origin)),
        logger=False,
        engineio_logger=False,
        # Larger messages (WebSocket) or polling bodies are refused by engine.io (ESCUTA_API_WS_MAX_MESSAGE_BYTES).
        max_http_buffer_size=max_message_bytes,
    )
    state.socketio = sio

    @sio.event  # type: ignore[untyped-decorator]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        settings: Settings = state.settings
        token = _token(environ, auth)
        try:
            claims = verify_access(settings, token) if token else None
        except InvalidToken:
            claims = None
        if claims is None or claims.org_id is None:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized: a host's access token is required")
        await sio.save_session(sid, {"org": str(claims.org_id), "user": str(claims.user_id)})
        _ensure_listening(state, sio)

    async def join(sid: str, data: Any = None) -> dict[str, Any]:
        meeting = _room_of(data)
        if meeting is None:
            return {"ok": False, "error": "invalid_room", "message": "expected 'feedback:<meetingId>'"}
        session = await sio.get_session(sid)
        org = UUID(session["org"])
        async with tenant_connection(state.pool, org) as conn:
            # Membership now, not at connect: a host removed meanwhile joins nothing (issue 14).
            member = await accounts_repo.member_role(conn, org, UUID(session["user"])) is not None
            known = member and await coach_repo.meeting_known(conn, meeting, org)
        if not known:
            return {"ok": False, "error": "not_found", "message": "no such meeting in your organization"}
        await sio.enter_room(sid, _internal_room(org, meeting))
        return {"ok": True, "room": ROOM_PREFIX + meeting}

    async def leave(sid: str, data: Any = None) -> dict[str, Any]:
        meeting = _room_of(data)
        if meeting is None:
            return {"ok": False, "error": "invalid_room", "message": "expected 'feedback:<meetingId>'"}
        session = await sio.get_session(sid)
        await sio.leave_room(sid, _internal_room(session["org"], meeting))
        return {"ok": True, "room": ROOM_PREFIX + meeting}

    async def message(sid: str, data: Any = None) -> dict[str, Any]:
        return {"ok": False, "error": "not_supported", "message": "seed 002's demo chat is not served"}

    for name in ("join-room", "join"):
        sio.on(name, join)
    sio.on("leave-room", leave)
    sio.on("leave", leave)
    sio.on("message", message)
    return socketio.ASGIApp(sio, socketio_path="socket.io")


def _ensure_listening(state: Any, sio: socketio.AsyncServer) -> None:
    """Subscribe this process to the feedback channel once (on the first connection)."""
    if getattr(state, "socketio_listening", False):
        return
    state.socketio_listening = True

    async def on_feedback(event: dict[str, Any]) -> None:
        org, meeting = event.get("org"), event.get("meeting")
        if not org or not isinstance(meeting, str):
            return  # an event of no organization (a replay) has no hosts to reach
        room = _internal_room(org, meeting)
        if not sio.manager.rooms.get(NAMESPACE, {}).get(room):
            return  # nobody here: skip the read
        async with tenant_connection(state.pool, org) as conn:
            payload = await live.feedback_payload(conn, event["id"], UUID(org))
        if payload is not None:
            await sio.emit("feedback", payload, room=room, namespace=NAMESPACE)

    live_events(state).subscribe(live.FEEDBACK_CHANNEL, on_feedback)
