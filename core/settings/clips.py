"""Clips and bursts (seed 004): the Twitch app, the ingestion schedule, and the job scheduler that runs it."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from core.settings.base import Section


class TwitchSettings(Section):
    prefix: ClassVar[str] = "twitch_"

    client_id: str = Field(
        "",
        description="Platform Twitch app client id: the fallback for `api_mode=shared` streamers whose "
        "organization stored no `twitch` credential.",
    )
    client_secret: SecretStr = Field(
        SecretStr(""), description="Platform Twitch app client secret (client-credentials grant)."
    )
    api_base_url: str = Field(
        "https://api.twitch.tv/helix", description="Twitch Helix base URL (tests point it at a stub)."
    )
    id_base_url: str = Field("https://id.twitch.tv/oauth2", description="Twitch OAuth base URL for app access tokens.")
    timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one Twitch HTTP request.")
    max_retries: int = Field(
        5, ge=0, description="Retries of one Twitch request after a 429, a 5xx or a network error."
    )
    max_rate_limit_wait_seconds: float = Field(
        60.0, gt=0, description="Longest wait for a Twitch rate-limit bucket to refill (`Ratelimit-Reset`)."
    )


class ClipsSettings(Section):
    prefix: ClassVar[str] = "clips_"

    ingestion_interval_seconds: float = Field(
        180.0, gt=0, description="How often the scheduler pulls new clips from Twitch (seed 004: 3 minutes)."
    )
    ingestion_lookback_seconds: float = Field(
        3600.0, gt=0, description="How far back the first ingestion of a new streamer looks for clips."
    )
    ingestion_overlap_seconds: float = Field(
        900.0,
        ge=0,
        description="Each ingestion re-reads this much before the last one: Twitch lists clips late.",
    )
    ingestion_max_catchup_days: float = Field(
        30.0,
        gt=0,
        description="A streamer not ingested for a while (monitoring stopped, trial expired) catches up this "
        "far back at most, a week per run; older clips are given up and `ingestion_catchup_clamped` is logged.",
    )
    ingestion_concurrency: int = Field(4, ge=1, description="Streamers ingested in parallel.")
    twitch: TwitchSettings = TwitchSettings()


class SchedulerSettings(Section):
    prefix: ClassVar[str] = "scheduler_"

    enabled: bool = Field(True, description="`escuta run` starts the job scheduler (`escuta jobs`).")
    tick_seconds: float = Field(
        5.0, gt=0, description="Scheduler heartbeat: how often it renews its lease and looks for due jobs."
    )
    lease_seconds: float = Field(
        30.0, gt=0, description="Leader lease; a crashed leader is replaced after at most this long."
    )
    dead_after_seconds: float = Field(
        30.0,
        gt=0,
        description="`/health/worker` calls the scheduler dead after this long without a heartbeat.",
    )
