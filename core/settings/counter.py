"""The counter assistant (seed 001): which recommender, its LLM, and the prices of the cost report."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from core.settings.base import Section


class CounterSettings(Section):
    prefix: ClassVar[str] = "counter_"

    recommender: Literal["local", "llm"] = Field(
        "local",
        description="Counter assistant recommender (seed 001): `local` (offline, the default) or `llm` "
        "(OpenAI or xAI; falls back to local per utterance on any failure).",
    )
    llm_provider: Literal["openai", "xai"] = Field("openai", description="LLM provider for `llm`.")
    llm_by_org: dict[str, str] = Field(
        {},
        description="Per-organization LLM choice (JSON object: organization id → `provider:model`, e.g. "
        "`xai:grok-4-1-fast-non-reasoning`, or `local`); others use the settings above.",
    )
    llm_openai_model: str = Field("gpt-5.4-mini", description="OpenAI model for counter suggestions.")
    llm_xai_model: str = Field("grok-4-1-fast-non-reasoning", description="xAI model for counter suggestions.")
    llm_openai_base_url: str = Field("https://api.openai.com/v1", description="OpenAI API base URL.")
    llm_xai_base_url: str = Field("https://api.x.ai/v1", description="xAI API base URL.")
    llm_timeout_seconds: float = Field(
        3.0, gt=0, description="Longest an LLM suggestion may take before the local one is used instead."
    )
    llm_max_candidates: int = Field(
        5, ge=1, le=20, description="Catalog products (top of the local ranking) shown to the LLM per utterance."
    )
    llm_window_turns: int = Field(8, ge=1, le=50, description="Conversation turns shown to the LLM per utterance.")
    price_stt_per_minute: dict[str, float] = Field(
        {"openai": 0.003, "elevenlabs": 0.0067, "assemblyai": 0.0025, "local": 0.0},
        description="Speech-to-text price per audio minute by provider (USD, JSON object) for the cost report; "
        "the defaults are examples, set your contract's prices.",
    )
    price_llm_per_million_tokens: dict[str, tuple[float, float]] = Field(
        {"openai": (0.25, 2.0), "xai": (0.2, 0.5), "local": (0.0, 0.0)},
        description="LLM price per million (input, output) tokens by provider (USD, JSON object of pairs); "
        "the defaults are examples.",
    )
    export_processes: int = Field(
        1,
        ge=1,
        le=16,
        description="Processes that write Excel exports (`GET /api/export/xlsx` and export jobs), apart from the "
        "API's own: an export is seconds of CPU that would otherwise slow every other request. More run "
        "several exports at once; each uses one core while it writes.",
    )
    report_timezone: str = Field(
        "America/Sao_Paulo", description="Time zone of the Excel export's dates and of its days (summary per day)."
    )

    # --- seed 001's `/ws` for Balto devices (control_api/routes/counter/device_socket.py) ---------------
    ws_first_frame_timeout_seconds: float = Field(
        5.0, gt=0, description='`/ws`: a device must send its `{"api_key"}` frame within this, else 4001.'
    )
    ws_connect_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="`/ws`: longest wait for the LiveKit room (retrying) before closing with 1013; audio "
        "arriving meanwhile is buffered.",
    )
    ws_max_frame_bytes: int = Field(
        262_144, ge=1024, description="`/ws`: largest binary frame accepted (500 ms of WAV is 16 KB); larger: 1009."
    )
    ws_max_backlog_seconds: float = Field(
        15.0,
        gt=0,
        description="`/ws`: decoded audio waiting to be published, at most (a client faster than real time, "
        "or a room still connecting); beyond it the socket closes with 4029.",
    )
    ws_max_buffered_bytes: int = Field(
        2_000_000, ge=65_536, description="`/ws`: received bytes waiting for the decoder, at most; beyond: 4029."
    )
    ws_resume_grace_seconds: float = Field(
        30.0,
        ge=0,
        description="`/ws`: a device that reconnects within this resumes its session (same room, same "
        "participant); suggestions made meanwhile are delivered on its return.",
    )

    @field_validator("llm_by_org")
    @classmethod
    def _llm_by_org(cls, value: dict[str, str]) -> dict[str, str]:
        for org, choice in value.items():
            provider = choice.strip().partition(":")[0]
            if provider not in ("local", "openai", "xai"):
                raise ValueError(f"ESCUTA_COUNTER_LLM_BY_ORG[{org}]: expected local, openai:MODEL or xai:MODEL")
        return value
