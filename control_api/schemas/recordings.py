"""A meeting's WAV recordings (seed 002's audio egress), as the API lists them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from control_api.schemas.formats import Timestamp
from control_api.services.recordings import RecordingFile

_EXAMPLE: JsonDict = {
    "name": "20250314T092653589Z_sala-1_ana_TR_AMkd.wav",
    "size": 64044,
    "participantIdentity": "ana",
    "startedAt": "2025-03-14T09:26:53.589000+00:00",
    "durationS": 2.0,
    "url": "/sessions/RM_123/recordings/20250314T092653589Z_sala-1_ana_TR_AMkd.wav",
}


class Recording(BaseModel):
    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True, json_schema_extra={"examples": [_EXAMPLE]}
    )

    name: str
    size: int = Field(description="Bytes.")
    participantIdentity: str | None = Field(description="From the file name (made path-safe by the writer).")
    startedAt: Timestamp | None = Field(description="Wall-clock time of the segment's first sample.")
    durationS: float
    url: str = Field(description="Where to download it (`audio/wav`).")

    @classmethod
    def of(cls, meeting_id: str, r: RecordingFile, url: str) -> Recording:
        return cls(
            name=r.name,
            size=r.size,
            participantIdentity=r.participant,
            startedAt=r.started_at,
            durationS=r.duration_s,
            url=url,
        )


class Recordings(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"meetingId": "RM_123", "items": [_EXAMPLE]}]})

    meetingId: str
    items: list[Recording] = Field(description="Oldest first; empty when nothing was recorded or kept.")


WAV_RESPONSE: dict[str, Any] = {
    "description": "One WAV segment (16 kHz mono, 16-bit PCM).",
    "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
}
