"""What was said in a session (JSON or WebVTT), and seed 000's one-shot `POST /stt`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from control_api.schemas.formats import Timestamp

VTT_MEDIA_TYPE = "text/vtt"

_OK: JsonDict = {
    "segmentId": "seg_01",
    "participantIdentity": "ana",
    "trackSid": "TR_xyz",
    "start": 1.02,
    "end": 3.5,
    "startedAt": "2025-03-14T09:26:54.609793+00:00",
    "text": "Bom dia a todos",
    "language": "pt",
    "provider": "openai",
    "confidence": None,
    "latencyMs": 412.0,
    "status": "ok",
    "failureReason": None,
    "audioRef": None,
}
_FAILED: JsonDict = {
    **_OK,
    "segmentId": "seg_02",
    "start": 65.5,
    "end": 66.0,
    "startedAt": "2025-03-14T09:27:59.089793+00:00",
    "text": None,
    "language": None,
    "provider": None,
    "latencyMs": None,
    "status": "failed",
    "failureReason": "openai: timeout",
    "audioRef": "/data/failed/seg_02.wav",
}


class TranscriptItem(BaseModel):
    """One utterance. A failed one has no text, but says why and where its audio was kept."""

    # Every field is always present in the answer (null when unknown), defaults or not.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True, json_schema_extra={"examples": [_OK]})

    segmentId: str
    participantIdentity: str
    trackSid: str | None = None
    start: float = Field(description="Seconds on the session's clock.")
    end: float
    startedAt: Timestamp | None = Field(None, description="Wall-clock time of `start`.")
    text: str | None = None
    language: str | None = None
    provider: str | None = Field(None, description="The speech-to-text provider that answered.")
    confidence: float | None = None
    latencyMs: float | None = Field(None, description="From the end of the utterance to its transcript.")
    status: Literal["ok", "failed"]
    failureReason: str | None = None
    audioRef: str | None = Field(None, description="Where a failed utterance's audio was kept, for a retry.")

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> TranscriptItem:
        return cls(
            segmentId=r["segment_id"],
            participantIdentity=r["participant_identity"],
            trackSid=r["track_sid"],
            start=r["start_s"],
            end=r["end_s"],
            startedAt=r["started_at"],
            text=r["text"],
            language=r["language"],
            provider=r["provider"],
            confidence=r["confidence"],
            latencyMs=r["latency_ms"],
            status=r["status"],
            failureReason=r["failure_reason"],
            audioRef=r["audio_ref"],
        )


class Transcript(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"meetingId": "RM_123", "items": [_OK, _FAILED], "failed": 1}]}
    )

    meetingId: str
    items: list[TranscriptItem] = Field(description="In time order, failed utterances included.")
    failed: int = Field(description="How many of `items` failed.")

    @classmethod
    def of(cls, meeting_id: str, items: list[TranscriptItem]) -> Transcript:
        return cls(meetingId=meeting_id, items=items, failed=sum(1 for i in items if i.status == "failed"))


# The transcript as WebVTT (`?format=vtt` or `Accept: text/vtt`), for the OpenAPI document.
WEBVTT_RESPONSE: dict[str, Any] = {
    "description": "The transcribed utterances as WebVTT cues, each voiced (`<v identity>`) by its speaker.",
    "content": {
        VTT_MEDIA_TYPE: {
            "schema": {"type": "string"},
            "example": "WEBVTT\n\n1\n00:00:01.020 --> 00:00:03.500\n<v ana>Bom dia a todos\n",
        }
    },
}


def _vtt_time(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _vtt_escape(text: str) -> str:
    # Cue text may not contain "-->" nor raw "<" / "&"; escaping "<", ">" and "&" covers all three.
    # Blank lines would end the cue, so line breaks become spaces.
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(items: Iterable[TranscriptItem]) -> str:
    """Transcribed utterances as WebVTT cues, each voiced (`<v identity>`) by its speaker."""
    lines = ["WEBVTT", ""]
    n = 0
    for item in items:
        if item.status != "ok" or not (item.text or "").strip():
            continue
        n += 1
        end = max(item.end, item.start + 0.001)  # a cue must end after it starts
        lines += [
            str(n),
            f"{_vtt_time(item.start)} --> {_vtt_time(end)}",
            f"<v {_vtt_escape(item.participantIdentity)}>{_vtt_escape(item.text or '')}",
            "",
        ]
    return "\n".join(lines)


# --- POST /stt (seed 000) -------------------------------------------------------------------------------------

STT_MAX_SECONDS = 60.0


class SttAnswer(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "quero falar com um atendente", "provider": "openai", "seconds": 1.5}]}
    )

    text: str
    provider: str = Field(description="The organization's speech-to-text provider that answered.")
    seconds: float = Field(description="The audio's duration.")


# Read by hand (the raw body or the form's first file part), so declared here for the document.
STT_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": f"An audio file of at most {STT_MAX_SECONDS:.0f} seconds and 10 MB, in any format FFmpeg reads "
    "(WAV, MP3, Ogg/Opus, WebM, M4A...): as a form's file part (seed 000's frontend) or as the raw body.",
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"audio": {"type": "string", "format": "binary", "description": "The audio file."}},
                "required": ["audio"],
            }
        },
        "audio/*": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}
