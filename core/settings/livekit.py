"""The LiveKit connection: the standard unprefixed `LIVEKIT_*` variables, so livekit-agents, livekit-api
and Escuta agree; the public URL handed to anything outside our network; and the lifetime of the tokens
`/token` mints.

Two URLs because two kinds of client reach LiveKit: Escuta's own processes (agents, the API's server
calls) use `url`, often a loopback or service address; outside services that join rooms from their own
cloud (LiveAvatar) and frontends are handed `public_url`. Frontends fall back to `url` when it is unset
(local development: the browser runs next to the server); the avatar never does (docs/avatar.md).
"""

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
        "public_url": ("ESCUTA_LIVEKIT_PUBLIC_URL",),
    }

    url: str = Field(
        "ws://127.0.0.1:7880",
        description="LiveKit server URL (`LIVEKIT_URL`) for Escuta's own processes: agents connect here.",
    )
    public_url: str | None = Field(
        None,
        description="LiveKit URL reachable from the internet (e.g. `wss://lk.example.com`): handed to LiveAvatar, "
        "which joins rooms from its own cloud, and to frontends in `/token` and `/new` answers. Unset, or a "
        "loopback/private address: no avatar (`/new` answers 503); unset, `/token` returns `LIVEKIT_URL`.",
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

    def frontend_url(self) -> str:
        """What `/token` tells frontends: the public URL, else (local development) the server's own."""
        return self.public_url or self.url
