"""The control API process: where it binds, the platform admin secret, and the browsers CORS allows."""

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
