"""The LiveKit connection: the standard unprefixed `LIVEKIT_*` variables, so livekit-agents, livekit-api
and Escuta agree; and the lifetime of the tokens `/token` mints."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from core.settings.base import Section
from core.settings.dev import DEV_LIVEKIT_API_KEY, DEV_LIVEKIT_API_SECRET


class LiveKitSettings(Section):
    prefix: ClassVar[str] = "livekit_"
    env_aliases: ClassVar[dict[str, tuple[str, ...]]] = {
        "url": (
            "LIVEKIT_URL",
            "ESCUTA_LIVEKIT_URL",
        ),
        "api_key": (
            "LIVEKIT_API_KEY",
            "ESCUTA_LIVEKIT_API_KEY",
        ),
        "api_secret": (
            "LIVEKIT_API_SECRET",
            "ESCUTA_LIVEKIT_API_SECRET",
        ),
    }

    url: str = Field(
        "ws://127.0.0.1:7880",
        description="LiveKit server URL (`LIVEKIT_URL`). Agents connect here; `/token` returns it to frontends.",
    )
    api_key: str = Field(
        DEV_LIVEKIT_API_KEY,
        description="LiveKit API key (`LIVEKIT_API_KEY`); must match the server's `keys` and webhook `api_key`.",
    )
    api_secret: SecretStr = Field(
        SecretStr(DEV_LIVEKIT_API_SECRET),
        description="LiveKit API secret (`LIVEKIT_API_SECRET`); signs tokens and verifies webhooks.",
    )
    token_ttl: int = Field(
        600,
        ge=10,
        le=86_400,
        description="Lifetime in seconds of LiveKit tokens from `/token` (checked at join).",
    )
