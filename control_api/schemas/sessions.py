"""Meeting sessions (seed 002's Session model) and the LiveKit webhook events they are built from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from control_api.schemas.formats import NEXT_CURSOR_DESCRIPTION, NoNul, Timestamp
from db.sessions import SessionRows

# A room sid (`RM_...`) or `name:<room name>`; LiveKit room names are at most a few hundred bytes.
MeetingId = Annotated[str, Path(min_length=1, max_length=300, examples=["RM_123"]), NoNul]

_AT = "2025-03-14T09:26:53.589793+00:00"
_END = "2025-03-14T10:01:12.004211+00:00"
_SESSION: JsonDict = {
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "meetingId": "RM_123",
    "roomName": "Meet-7c9e6679-7425-40de-944b-e07fc1f90ae7-ana",
    "roomSid": "RM_123",
    "status": "ENDED",
    "startedAt": _AT,
    "endedAt": _END,
}


class Session(BaseModel):
    """One LiveKit room instance: seed 002's `{id, meetingId, roomName, roomSid, status, startedAt, endedAt}`."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SESSION]})

    id: uuid.UUID
    meetingId: str = Field(description="The room's sid (`RM_...`), or `name:<room>` when LiveKit sent none.")
    roomName: str
    roomSid: str | None
    status: Literal["ACTIVE", "ENDED"]
    startedAt: Timestamp
    endedAt: Timestamp | None

    @classmethod
    def fields_from_row(cls, row: asyncpg.Record) -> dict[str, Any]:
        return {
            "id": row["id"],
            "meetingId": row["meeting_id"],
            "roomName": row["room_name"],
            "roomSid": row["room_sid"],
            "status": row["status"],
            "startedAt": row["started_at"],
            "endedAt": row["ended_at"],
        }

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Session:
        return cls(**cls.fields_from_row(row))


class SessionList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_SESSION], "limit": 100, "offset": 0}]})

    items: list[Session] = Field(description="Newest first.")
    limit: int
    offset: int
    nextCursor: str | None = Field(None, description=NEXT_CURSOR_DESCRIPTION)


class Track(BaseModel):
    sid: str
    kind: str | None = Field(description="`AUDIO`, `VIDEO` or `DATA`.")
    source: str | None = Field(description="`MICROPHONE`, `CAMERA`, `SCREEN_SHARE`, ...")
    name: str | None
    publishedAt: Timestamp | None
    unpublishedAt: Timestamp | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Track:
        return cls(
            sid=row["track_sid"],
            kind=row["kind"],
            source=row["source"],
            name=row["name"],
            publishedAt=row["published_at"],
            unpublishedAt=row["unpublished_at"],
        )


def _duration(start: datetime | None, end: datetime | None, fallback_end: datetime | None) -> float | None:
    stop = end or fallback_end
    if start is None or stop is None:
        return None
    return max(0.0, (stop - start).total_seconds())


class Participant(BaseModel):
    sid: str
    identity: str
    name: str | None
    kind: str = Field(description="LiveKit's participant kind: `STANDARD`, `AGENT`, `EGRESS`, ...")
    joinedAt: Timestamp | None
    leftAt: Timestamp | None
    durationSeconds: float | None = Field(
        description="In the room until `leftAt`, or the session's end; null while still in an active session."
    )
    tracks: list[Track]


class SessionDetail(Session):
    """A session with who was in the room, when, and which tracks each published."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_SESSION,
                    "participants": [
                        {
                            "sid": "PA_abc",
                            "identity": "ana",
                            "name": "Ana",
                            "kind": "STANDARD",
                            "joinedAt": _AT,
                            "leftAt": _END,
                            "durationSeconds": 2058.414418,
                            "tracks": [
                                {
                                    "sid": "TR_xyz",
                                    "kind": "AUDIO",
                                    "source": "MICROPHONE",
                                    "name": "microphone",
                                    "publishedAt": _AT,
                                    "unpublishedAt": _END,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    participants: list[Participant]

    @classmethod
    def from_rows(cls, rows: SessionRows) -> SessionDetail:
        session = rows.session
        by_participant: dict[str, list[Track]] = {}
        for t in rows.tracks:
            by_participant.setdefault(t["participant_sid"] or "", []).append(Track.from_row(t))
        participants = [
            Participant(
                sid=p["participant_sid"],
                identity=p["identity"],
                name=p["name"],
                kind=p["kind"],
                joinedAt=p["joined_at"],
                leftAt=p["left_at"],
                # Still in the room: counted up to the session's end, or unknown while it is active.
                durationSeconds=_duration(p["joined_at"], p["left_at"], session["ended_at"]),
                tracks=by_participant.get(p["participant_sid"], []),
            )
            for p in rows.participants
        ]
        return cls(**Session.fields_from_row(session), participants=participants)


# --- POST /livekit/webhook ----------------------------------------------------------------------------------

WEBHOOK_MEDIA_TYPE = "application/webhook+json"


class LiveKitWebhookEvent(BaseModel):
    """A LiveKit webhook event (livekit.WebhookEvent in protobuf JSON), as LiveKit's server sends it.

    Documentation only: the route reads the raw bytes itself, because the signature covers them exactly.
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "event": "room_started",
                    "room": {"sid": "RM_123", "name": "Meet-7c9e6679-7425-40de-944b-e07fc1f90ae7-ana"},
                    "id": "EV_3k2j5h6g7f8d",
                    "createdAt": "1741944413",
                }
            ]
        },
    )

    event: str = Field(description="`room_started`, `room_finished`, `participant_joined`, `track_published`, ...")
    id: str | None = Field(None, description="Unique per event: a redelivery has the same id and changes nothing.")
    createdAt: str | int | None = Field(None, description="Unix seconds (an int64, so a string in protobuf JSON).")
    room: dict[str, Any] | None = Field(None, description="livekit.Room: `sid`, `name`, `creationTime`, ...")
    participant: dict[str, Any] | None = Field(None, description="livekit.ParticipantInfo")
    track: dict[str, Any] | None = Field(None, description="livekit.TrackInfo")
    egressInfo: dict[str, Any] | None = None
    ingressInfo: dict[str, Any] | None = None


class WebhookAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "stored", "id": "EV_3k2j5h6g7f8d"}]})

    status: Literal["stored", "duplicate"] = Field(description="`duplicate`: this event id was already stored.")
    id: str = Field(description="The event id (`sha256:<hex>` of the body when LiveKit sent none).")
