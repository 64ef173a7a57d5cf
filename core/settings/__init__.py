"""Escuta's one configuration object, nested per feature.

Every setting is read from the environment or from an optional ``.env`` file in the working directory,
under the flat names Escuta has always documented (`ESCUTA_COUNTER_LLM_PROVIDER`, and the standard
unprefixed ``LIVEKIT_URL``, ``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET`` so that livekit-agents,
livekit-api and Escuta agree); in code they are reached by feature (`settings.counter.llm_provider`).
See `base.py` for how the two meet.

Defaults are for a laptop: they match the dev keys in ``livekit.yaml``. ``ESCUTA_ENV=prod`` turns on the
checks that refuse to start with dev secrets. The README's settings table is generated from these
classes (``escuta settings --markdown``), so each field's description is its documentation.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import AliasChoices, Field, SecretStr, create_model, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from core.settings.accounts import (
    CredentialsSettings,
    InvitationSettings,
    JwtSettings,
    LinkCodeSettings,
    RateLimitSettings,
    SmtpSettings,
)
from core.settings.api import ApiSettings
from core.settings.audio import AudioChainConfig
from core.settings.avatar import AvatarSettings
from core.settings.base import FlatField, Section, fold, walk
from core.settings.clips import ClipsSettings, SchedulerSettings
from core.settings.coach import CoachSettings, CoachThresholds
from core.settings.counter import CounterSettings
from core.settings.db import DatabaseSettings
from core.settings.dev import (
    DEV_ADMIN_TOKEN,
    DEV_JWT_ACCESS_SECRET,
    DEV_JWT_REFRESH_SECRET,
    DEV_LIVEKIT_API_KEY,
    DEV_LIVEKIT_API_SECRET,
)
from core.settings.livekit import LiveKitSettings
from core.settings.stt import SttSettings
from core.settings.worker import WorkerSettings

# Providers an organization can store a key for (seed 000: each client brings its own).
PROVIDERS = ("elevenlabs", "openai", "xai", "assemblyai", "hume", "liveavatar", "twitch")


class ConfigError(RuntimeError):
    """A setting is missing or unsafe for the chosen environment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="forbid")

    # --- general -------------------------------------------------------------------------------------
    env: Literal["dev", "prod"] = Field(
        "dev", description="`dev` allows the built-in dev secrets; `prod` refuses to start with them."
    )
    log_level: str = Field("INFO", description="Python log level for every Escuta process.")
    log_format: Literal["text", "json"] = Field("text", description="`json` for one JSON object per line.")
    data_dir: Path = Field(Path(".escuta"), description="Local state: the embedded database, recordings, pid files.")

    # --- by feature ----------------------------------------------------------------------------------
    livekit: LiveKitSettings = LiveKitSettings()
    db: DatabaseSettings = DatabaseSettings()
    api: ApiSettings = ApiSettings()
    worker: WorkerSettings = WorkerSettings()
    jwt: JwtSettings = JwtSettings()
    credentials: CredentialsSettings = CredentialsSettings()
    link_code: LinkCodeSettings = LinkCodeSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    invitation: InvitationSettings = InvitationSettings()
    smtp: SmtpSettings = SmtpSettings()
    stt: SttSettings = SttSettings()
    audio: AudioChainConfig = AudioChainConfig()
    coach: CoachSettings = CoachSettings()
    counter: CounterSettings = CounterSettings()
    clips: ClipsSettings = ClipsSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    avatar: AvatarSettings = AvatarSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Arguments first, then the environment, then `.env`; all under the flat names (`base.py`).
        flat = _flat_model()
        return (
            init_settings,
            _ByFlatName(settings_cls, EnvSettingsSource(flat, case_sensitive=False)),
            _ByFlatName(
                settings_cls,
                # `Settings(_env_file=None)` (tests) reads no file: take the file the default source was given.
                DotEnvSettingsSource(
                    flat,
                    env_file=getattr(dotenv_settings, "env_file", ".env"),
                    env_file_encoding="utf-8",
                    case_sensitive=False,
                ),
            ),
        )

    @model_validator(mode="before")
    @classmethod
    def _flat_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = flat_fields()
        unknown = [k for k in data if k not in cls.model_fields and k not in fields]
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        return fold(data, fields)

    @model_validator(mode="after")
    def _scheduler_timings(self) -> Self:
        tick, lease = self.scheduler.tick_seconds, self.scheduler.lease_seconds
        # The lease must outlive a few heartbeats, or a healthy leader would lose it between renewals.
        if lease <= 2 * tick:
            raise ValueError("ESCUTA_SCHEDULER_LEASE_SECONDS must exceed twice ESCUTA_SCHEDULER_TICK_SECONDS")
        # A crashed leader must be replaced within one ingestion interval (issue 8).
        if lease + tick >= self.clips.ingestion_interval_seconds:
            raise ValueError(
                "ESCUTA_SCHEDULER_LEASE_SECONDS + ESCUTA_SCHEDULER_TICK_SECONDS must be shorter than "
                "ESCUTA_CLIPS_INGESTION_INTERVAL_SECONDS"
            )
        return self

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (flat names, or whole sections) applied and validated."""
        data = self.model_dump()
        for key, value in fold(changes, flat_fields()).items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = _deep_merge(data[key], value)
            else:
                data[key] = value
        return type(self).model_validate(data)

    def check_production(self) -> None:
        """Refuse to run in prod with secrets everybody knows."""
        if self.env != "prod":
            return
        problems = []
        if self.livekit.api_secret.get_secret_value() == DEV_LIVEKIT_API_SECRET:
            problems.append("LIVEKIT_API_SECRET is the public dev secret")
        if self.api.admin_token.get_secret_value() == DEV_ADMIN_TOKEN:
            problems.append("ESCUTA_ADMIN_TOKEN is the dev default")
        if self.jwt.access_secret.get_secret_value() == DEV_JWT_ACCESS_SECRET:
            problems.append("ESCUTA_JWT_ACCESS_SECRET is the dev default")
        if self.jwt.refresh_secret.get_secret_value() == DEV_JWT_REFRESH_SECRET:
            problems.append("ESCUTA_JWT_REFRESH_SECRET is the dev default")
        for name, secret in (("ACCESS", self.jwt.access_secret), ("REFRESH", self.jwt.refresh_secret)):
            if len(secret.get_secret_value().encode()) < 32:
                problems.append(f"ESCUTA_JWT_{name}_SECRET is shorter than 32 bytes")
        if self.credentials.key is None:
            problems.append("ESCUTA_CREDENTIALS_KEY is not set (provider credentials cannot be encrypted)")
        else:
            from core.crypto import credentials_key  # late: crypto imports this module

            try:
                credentials_key(self)
            except ConfigError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError("refusing to start with ESCUTA_ENV=prod: " + "; ".join(problems))


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@cache
def flat_fields() -> dict[str, FlatField]:
    """Every setting by its flat name (``counter_llm_provider``); names are unique (checked here)."""
    out: dict[str, FlatField] = {}
    for f in walk(Settings):
        if f.flat in out:
            raise AssertionError(f"two settings share the flat name {f.flat}")
        out[f.flat] = f
    return out


class _ByFlatName(PydanticBaseSettingsSource):
    """A pydantic-settings source over the flat model, its values keyed by flat name (not by the
    environment name that matched)."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        raise NotImplementedError  # __call__ is overridden; pydantic-settings never asks per field here

    def __call__(self) -> dict[str, Any]:
        found = {key.lower(): value for key, value in self.inner().items()}
        out: dict[str, Any] = {}
        for f in flat_fields().values():
            for name in (*f.env_names, f.flat):
                if name.lower() in found:
                    out[f.flat] = found[name.lower()]
                    break
        return out


@cache
def _flat_model() -> type[BaseSettings]:
    """A flat BaseSettings with one optional field per setting, for pydantic-settings' sources to read."""
    fields: dict[str, Any] = {
        f.flat: (f.info.annotation, Field(None, validation_alias=AliasChoices(*f.env_names)))
        for f in flat_fields().values()
    }
    model: type[BaseSettings] = create_model(  # type: ignore[call-overload]
        "FlatSettings",
        __base__=BaseSettings,
        __config__=None,
        **fields,
    )
    model.model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, populate_by_name=False)
    return model


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()


def settings_table_markdown() -> str:
    """The README's settings table, generated so code and docs cannot drift apart."""
    rows = ["| variable | default | description |", "|---|---|---|"]
    for f in flat_fields().values():
        default = f.info.default
        if isinstance(default, SecretStr):
            shown = "(dev value)" if default.get_secret_value() else "(empty)"
        elif default is None:
            shown = "(unset)"
        else:
            shown = f"`{default}`"
        # A literal "|" (e.g. in a regex default) would split the cell: escape it for the table.
        cell = shown.replace("|", "\\|")
        rows.append(f"| `{f.env_names[0]}` | {cell} | {f.info.description or ''} |")
    return "\n".join(rows)


README_TABLE_START = "<!-- settings-table:start -->"
README_TABLE_END = "<!-- settings-table:end -->"


def replace_readme_table(readme: str) -> str:
    """The README with its generated settings table brought up to date."""
    start, end = readme.find(README_TABLE_START), readme.find(README_TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {README_TABLE_START} ... {README_TABLE_END} block")
    head = readme[: start + len(README_TABLE_START)]
    return head + "\n" + settings_table_markdown() + "\n" + readme[end:]


__all__ = [
    "DEV_ADMIN_TOKEN",
    "DEV_JWT_ACCESS_SECRET",
    "DEV_JWT_REFRESH_SECRET",
    "DEV_LIVEKIT_API_KEY",
    "DEV_LIVEKIT_API_SECRET",
    "PROVIDERS",
    "AudioChainConfig",
    "CoachThresholds",
    "ConfigError",
    "Section",
    "Settings",
    "get_settings",
    "replace_readme_table",
    "settings_table_markdown",
]
