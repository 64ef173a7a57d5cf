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
    report_timezone: str = Field(
        "America/Sao_Paulo", description="Time zone of the Excel export's dates and of its days (summary per day)."
    )

    @field_validator("llm_by_org")
    @classmethod
    def _llm_by_org(cls, value: dict[str, str]) -> dict[str, str]:
        for org, choice in value.items():
            provider = choice.strip().partition(":")[0]
            if provider not in ("local", "openai", "xai"):
                raise ValueError(f"ESCUTA_COUNTER_LLM_BY_ORG[{org}]: expected local, openai:MODEL or xai:MODEL")
        return value
