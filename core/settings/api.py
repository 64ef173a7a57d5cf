"""The control API process: where it binds, the platform admin secret, the browsers CORS allows, and the
limits that keep one request from taking the process down (body sizes, CPU threads)."""

from __future__ import annotations

import ipaddress
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from core.settings.base import Section
from core.settings.dev import DEV_ADMIN_TOKEN


class ApiSettings(Section):
    prefix: ClassVar[str] = "api_"
    flat_names: ClassVar[dict[str, str]] = {
        "admin_token": "admin_token",
        "cors_origin_regex": "cors_origin_regex",
        "trusted_proxies": "trusted_proxies",
    }

    host: str = Field("127.0.0.1", description="Address `escuta api` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `escuta api` binds.")
    workers: int = Field(1, ge=1, description="uvicorn worker processes for `escuta api`.")
    admin_token: SecretStr = Field(
        SecretStr(DEV_ADMIN_TOKEN),
        description="Platform admin bearer secret (the seeds' ADMIN_SECRET). Must be changed in prod.",
    )
    cors_origin_regex: str = Field(
        r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$",
        description="Browser origins allowed by CORS, as a regular expression "
        "(seed 003 used `^https:\\/\\/.*\\.aivoice\\.com\\.br$`). Default: local dev origins only.",
    )
    trusted_proxies: list[str] = Field(
        [],
        description="Addresses or networks of the reverse proxies in front of the API (JSON list, e.g. "
        '`["10.0.0.5", "10.1.0.0/16"]`). Only a peer listed here may name the client with `X-Forwarded-For`; '
        "empty (the default): the connection's own address is the client, always.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # raises ValueError naming the bad entry
        return value

    cpu_threads: int = Field(
        2,
        ge=1,
        le=64,
        description="Threads (per API process, at a lower priority than the event loop) for CPU work: "
        "password hashing, CSV parsing, audio decoding, model loads, the Excel export. More wait their turn.",
    )
    max_body_bytes: int = Field(
        65_536,
        ge=1024,
        description="Largest request body for the JSON routes; counted while it arrives, larger answers 413.",
    )
    max_csv_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, description="Largest `POST /catalog/import` body (the catalog CSV)."
    )
    max_audio_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest `POST /stt` body (audio or form).")
    max_webhook_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest `POST /livekit/webhook` body, refused before the signature check."
    )
    ws_max_message_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest WebSocket message (`/ws` devices, Socket.IO): larger closes the socket (1009). "
        "`/ws` audio frames are further limited by ESCUTA_COUNTER_WS_MAX_FRAME_BYTES.",
    )
