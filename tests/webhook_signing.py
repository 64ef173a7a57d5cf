"""Sign webhook bodies exactly as LiveKit does (HS256 JWT with a sha256 claim over the raw bytes)."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol import models, webhook


def sign(body: bytes, key: str, secret: str) -> str:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return api.AccessToken(key, secret).with_sha256(digest).to_jwt()


def event_body(
    event: str,
    *,
    room_sid: str = "RM_test",
    room_name: str = "room-a",
    created_at: int | None = None,
    event_id: str | None = None,
    participant: dict[str, Any] | None = None,
    track: dict[str, Any] | None = None,
    room_created: int | None = None,
) -> bytes:
    """A protojson body like livekit-server's (camelCase, int64 as strings, zero fields omitted)."""
    now = int(time.time()) if created_at is None else created_at
    ev = webhook.WebhookEvent(
        event=event,
        id=event_id or f"EV_{uuid.uuid4().hex[:12]}",
        created_at=now,
        room=models.Room(sid=room_sid, name=room_name, creation_time=room_created or now),
    )
    if participant:
        ev.participant.CopyFrom(models.ParticipantInfo(**participant))
    if track:
        ev.track.CopyFrom(models.TrackInfo(**track))
    return MessageToJson(ev, indent=None).encode()
