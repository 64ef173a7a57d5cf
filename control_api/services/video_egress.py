"""Seed 002's video egress, the LiveKit way: a track egress per published video track (issue 9).

Audio is recorded by the agent itself (WAV segments, `agents/coach/recording.py`); video never
reaches the agent (it subscribes to audio only), so the control API asks LiveKit's Egress service to
record each video track when the `track_published` webhook announces it. Only when the operator turned
it on (`ESCUTA_RECORDINGS_VIDEO_EGRESS`, since it needs an Egress service deployed next to LiveKit),
for rooms minted for the `meeting_coach` profile, and for organizations whose recordings are on
(`coach_settings.recordings_enabled`, default `ESCUTA_RECORDINGS_ENABLED`).
"""

from __future__ import annotations

import logging
from uuid import UUID

import asyncpg
from livekit import api
from livekit.protocol import models, webhook

from core.settings import Settings
from db import coach as coach_repo
from db import sessions as sessions_repo
from db.tenancy import tenant_connection

log = logging.getLogger("escuta.api.egress")

COACH_PROFILE = "meeting_coach"


async def wants_video_egress(
    pool: asyncpg.Pool, settings: Settings, event: webhook.WebhookEvent, org_id: UUID | None
) -> bool:
    if not settings.coach.recordings.video_egress or org_id is None or event.event != "track_published":
        return False
    if event.track.type != models.TrackType.VIDEO:
        return False
    async with tenant_connection(pool, org_id) as conn:
        profile = await sessions_repo.room_profile(conn, event.room.name)
        if profile != COACH_PROFILE:
            return False
        _, recordings = await coach_repo.coach_settings(conn, org_id)
    return settings.coach.recordings.enabled if recordings is None else recordings


async def start_video_egress(settings: Settings, event: webhook.WebhookEvent) -> str | None:
    """Ask LiveKit to record the event's track to a file; returns the egress id (None on failure).

    A failure is logged and swallowed: the webhook must still be acknowledged (LiveKit would retry it,
    and a retry would not make an Egress service appear).
    """
    request = api.TrackEgressRequest(
        room_name=event.room.name,
        track_id=event.track.sid,
        file=api.DirectFileOutput(filepath=settings.coach.recordings.video_filepath),
    )
    # failover=False: region failover is for LiveKit Cloud; a self-hosted server has one origin.
    lk = api.LiveKitAPI(
        settings.livekit.url,
        settings.livekit.api_key,
        settings.livekit.api_secret.get_secret_value(),
        failover=False,
    )
    try:
        info = await lk.egress.start_track_egress(request)
    except Exception as exc:  # TwirpError, aiohttp errors: the Egress service is down or refuses
        log.warning("video egress not started for track %s: %s", event.track.sid, type(exc).__name__)
        return None
    finally:
        await lk.aclose()
    log.info("video egress %s started for track %s", info.egress_id, event.track.sid)
    return info.egress_id
