"""Seed 004's clip-burst monitoring: streams, bursts, presets and resolved settings, as the API answers them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from asyncpg import Record
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from control_api.schemas.common import Timestamp
from control_api.schemas.formats import NEXT_CURSOR_DESCRIPTION, RequestBody
from core.clips.presets import PresetName, Resolved, presets_json

Source = Literal["preset", "streamer", "override"]
# FastAPI drops null values from examples in the document, so the examples fill every field.
AVATAR_URL = "https://static-cdn.jtvnw.net/jtv_user_pictures/gaules-profile_image.png"
ApiMode = Literal["shared", "client"]


class StreamBody(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "twitch_user_id": "181077473",
                    "display_name": "Gaules",
                    "avatar_url": AVATAR_URL,
                    "preset": "balanced",
                    "api_mode": "shared",
                }
            ]
        }
    )

    twitch_user_id: str = Field(pattern=r"^[0-9]{1,20}$", description="Twitch's numeric user id.")
    display_name: str = Field(min_length=1, max_length=200)
    avatar_url: str | None = Field(None, pattern=r"^https?://", max_length=2000)
    preset: str | None = Field(None, description="sensitive, balanced or conservative (default balanced).")
    monitor_interval_seconds: int | None = None
    monitor_min_clips: int | None = None
    api_mode: ApiMode | None = Field(
        None, description="shared: the organization's Twitch app; client: twitch_client_id/secret below."
    )
    trial_expires_at: datetime | None = None
    twitch_client_id: str | None = Field(None, min_length=1, max_length=200)
    twitch_client_secret: str | None = Field(None, min_length=1, max_length=500)


STREAM_EXAMPLE: dict[str, Any] = {
    "id": "6f1d8a52-3b7e-4d0c-9a11-52c4e0b7f9a3",
    "twitch_user_id": "181077473",
    "display_name": "Gaules",
    "avatar_url": AVATAR_URL,
    "monitor_preset": "balanced",
    "monitor_interval_seconds": 120,
    "monitor_min_clips": 5,
    "api_mode": "client",
    "trial_expires_at": "2025-04-30T23:59:59+00:00",
    "trial_expired": False,
    "twitch_client_id": "gp762nuuoqcoxypju8c569th9wz7q5",
    "twitch_client_secret_hint": "…x7k2",
    "last_ingested_at": "2025-03-14T18:03:00+00:00",
    "last_ingestion_error": "ConnectError: Twitch could not be reached",
    "created_at": "2025-03-01T12:00:00.512301+00:00",
}


class Stream(BaseModel):
    """A monitored streamer. The Twitch client secret is never returned, only its last characters."""

    model_config = ConfigDict(json_schema_extra={"examples": [STREAM_EXAMPLE]})

    id: UUID
    twitch_user_id: str
    display_name: str
    avatar_url: str | None
    monitor_preset: PresetName | None = Field(description="Null when the numbers are off every preset.")
    monitor_interval_seconds: int
    monitor_min_clips: int
    api_mode: ApiMode
    trial_expires_at: Timestamp | None
    trial_expired: bool
    twitch_client_id: str | None
    twitch_client_secret_hint: str | None = Field(description="`…` and the secret's last 4 characters.")
    last_ingested_at: Timestamp | None
    last_ingestion_error: str | None
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: Record, *, now: datetime | None = None) -> Stream:
        now = now or datetime.now(UTC)
        trial = row["trial_expires_at"]
        return cls(
            id=row["id"],
            twitch_user_id=row["twitch_user_id"],
            display_name=row["display_name"],
            avatar_url=row["avatar_url"],
            monitor_preset=row["monitor_preset"],
            monitor_interval_seconds=row["monitor_interval_seconds"],
            monitor_min_clips=row["monitor_min_clips"],
            api_mode=row["api_mode"],
            trial_expires_at=trial,
            trial_expired=bool(trial and trial <= now),
            twitch_client_id=row["twitch_client_id"],
            twitch_client_secret_hint=row["twitch_secret_hint"],
            last_ingested_at=row["last_ingested_at"],
            last_ingestion_error=row["last_ingestion_error"],
            created_at=row["created_at"],
        )


class StreamList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [STREAM_EXAMPLE]}]})

    items: list[Stream] = Field(description="By display name.")
    nextCursor: str | None = Field(None, description=NEXT_CURSOR_DESCRIPTION)


class BurstStreamer(BaseModel):
    id: UUID
    twitch_user_id: str
    display_name: str
    avatar_url: str | None


class BurstClip(BaseModel):
    clip_id: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})  # PostgreSQL's JSON text, as stored
    viewer_count: int
    title: str
    # int | float: PostgreSQL's JSON writes a whole duration as 30, and the answer keeps it that way.
    duration: Annotated[int | float, WithJsonSchema({"type": "number"})] = Field(description="Seconds.")
    url: str | None
    thumbnail_url: str | None
    video_id: str | None


class Burst(BaseModel):
    """At least ``min_clips`` clips of one streamer, each within ``interval_seconds`` of the previous one."""

    id: UUID
    streamer: BurstStreamer
    started_at: Timestamp
    ended_at: Timestamp
    clip_count: int
    total_views: int
    interval_seconds: int
    min_clips: int
    clips: list[BurstClip] = Field(description="The burst's first 50 clips, oldest first.")

    @classmethod
    def from_row(cls, r: Record) -> Burst:
        return cls(
            id=r["id"],
            streamer=BurstStreamer(
                id=r["streamer_id"],
                twitch_user_id=r["twitch_user_id"],
                display_name=r["display_name"],
                avatar_url=r["avatar_url"],
            ),
            started_at=r["started_at"],
            ended_at=r["ended_at"],
            clip_count=r["clip_count"],
            total_views=r["total_views"],
            interval_seconds=r["interval_seconds"],
            min_clips=r["min_clips"],
            clips=r["clips"],
        )


class RecentBursts(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "since_minutes": 60,
                    "items": [
                        {
                            "id": "0b8e5c1e-6a3f-4f7a-8d2e-9c4b1a7e3f50",
                            "streamer": {
                                "id": "6f1d8a52-3b7e-4d0c-9a11-52c4e0b7f9a3",
                                "twitch_user_id": "181077473",
                                "display_name": "Gaules",
                                "avatar_url": AVATAR_URL,
                            },
                            "started_at": "2025-03-14T18:01:12+00:00",
                            "ended_at": "2025-03-14T18:02:40+00:00",
                            "clip_count": 5,
                            "total_views": 1830,
                            "interval_seconds": 120,
                            "min_clips": 5,
                            "clips": [
                                {
                                    "clip_id": "AwkwardHelplessSalamanderSwiftRage",
                                    "created_at": "2025-03-14T18:01:12+00:00",
                                    "viewer_count": 412,
                                    "title": "que jogada",
                                    "duration": 30.0,
                                    "url": "https://clips.twitch.tv/AwkwardHelplessSalamanderSwiftRage",
                                    "thumbnail_url": "https://clips-media-assets2.twitch.tv/AwkwardHelplessSalamander-preview-480x272.jpg",
                                    "video_id": "2101234567",
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    since_minutes: int
    items: list[Burst] = Field(description="Newest first.")


class Preset(BaseModel):
    name: PresetName
    monitor_interval_seconds: int
    monitor_min_clips: int
    description: str
    default: bool


PRESETS_EXAMPLE: Any = {"items": presets_json()}


class PresetList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PRESETS_EXAMPLE]})

    items: list[Preset]

    @classmethod
    def all(cls) -> PresetList:
        return cls(items=[Preset.model_validate(p) for p in presets_json()])


class MonitoringResolveBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"preset": "sensitive"}]})

    preset: str | None = Field(None, description="sensitive, balanced or conservative.")
    monitor_interval_seconds: int | None = None
    monitor_min_clips: int | None = None
    streamer_id: str | None = Field(None, description="Start from this stream's stored settings.")


class Sources(BaseModel):
    """Where each number came from: the preset, the stream's stored settings, or the request."""

    monitor_interval_seconds: Source
    monitor_min_clips: Source


class ResolvedSettings(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "preset": "sensitive",
                    "monitor_interval_seconds": 60,
                    "monitor_min_clips": 3,
                    "sources": {"monitor_interval_seconds": "preset", "monitor_min_clips": "preset"},
                }
            ]
        }
    )

    preset: PresetName | None = Field(description="Null when an override moved the numbers off every preset.")
    monitor_interval_seconds: int
    monitor_min_clips: int
    sources: Sources

    @classmethod
    def of(cls, r: Resolved) -> ResolvedSettings:
        return cls.model_validate(r.as_json())
