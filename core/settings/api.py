"""The control API process: where it binds, the platform admin secret, and the browsers CORS allows."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from core.settings.base import Section
from core.settings.dev import DEV_ADMIN_TOKEN


class ApiSettings(Section):
    prefix: ClassVar[str] = "api_"
    flat_names: ClassVar[dict[str, str]] = {"admin_token": "admin_token", "cors_origin_regex": "cors_origin_regex"}

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
