"""PostgreSQL, the system of record."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from core.settings.base import Section


class DatabaseSettings(Section):
    prefix: ClassVar[str] = "db_"
    flat_names: ClassVar[dict[str, str]] = {"url": "database_url"}

    url: str | None = Field(
        None,
        description="PostgreSQL (14+) DSN. Unset: `escuta run` starts an embedded server under `data_dir`.",
    )
    pool_min_size: int = Field(1, ge=0, description="Minimum connections kept in the asyncpg pool.")
    pool_max_size: int = Field(10, ge=1, description="Maximum connections in the asyncpg pool.")
    command_timeout: float = Field(30.0, gt=0, description="Seconds before a database statement times out.")
    connect_timeout: float = Field(
        5.0, gt=0, description="Seconds to open one database connection (a black-holed server fails after this)."
    )
    ready_timeout: float = Field(
        1.5, gt=0, description="Seconds `/health/ready` waits for the database before answering 503."
    )
    retry_seconds: float = Field(
        5.0, gt=0, description="While the database is unreachable at start, seconds between connection attempts."
    )

    @model_validator(mode="after")
    def _pool_bounds(self) -> Self:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError("ESCUTA_DB_POOL_MIN_SIZE must not exceed ESCUTA_DB_POOL_MAX_SIZE")
        return self
