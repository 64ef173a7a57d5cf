"""The coach's thresholds: defaults from settings (`ESCUTA_COACH_*`), overridden per organization."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from escuta.settings import Settings


class CoachThresholds(BaseModel):
    """Every threshold of the feedback rules. Field names are the settings' names without `coach_`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    volume_low_dbfs: float = -36.0
    volume_low_exit_dbfs: float = -32.0
    volume_high_dbfs: float = -10.0
    volume_high_exit_dbfs: float = -14.0
    clipping_ratio: float = Field(0.002, ge=0)
    volume_sustain_seconds: float = Field(3.0, ge=0)
    silence_seconds: float = Field(20.0, gt=0)
    overlap_seconds: float = Field(1.5, gt=0)
    monologue_seconds: float = Field(45.0, gt=0)
    turn_gap_seconds: float = Field(3.0, gt=0)
    monotone_range_semitones: float = Field(2.0, gt=0)
    fast_syllable_rate: float = Field(5.0, gt=0)
    prosody_sustain_seconds: float = Field(8.0, ge=0)
    cooldown_seconds: float = Field(30.0, ge=0)
    # Not settings: fixed design choices, overridable per organization only if someone needs to.
    critical_factor: float = Field(2.0, gt=1)  # duration thresholds x this = severity "critical"
    critical_margin_db: float = Field(8.0, gt=0)  # this far past a level threshold = "critical"

    @model_validator(mode="after")
    def _hysteresis(self) -> CoachThresholds:
        # An exit bound on the wrong side of its threshold would re-arm at once and defeat hysteresis.
        if self.volume_low_exit_dbfs < self.volume_low_dbfs:
            raise ValueError("volume_low_exit_dbfs must be >= volume_low_dbfs")
        if self.volume_high_exit_dbfs > self.volume_high_dbfs:
            raise ValueError("volume_high_exit_dbfs must be <= volume_high_dbfs")
        return self

    @classmethod
    def from_settings(cls, settings: Settings, overrides: dict[str, Any] | None = None) -> CoachThresholds:
        """Settings' defaults, then an organization's overrides (unknown keys are an error)."""
        base = {
            name: getattr(settings, f"coach_{name}") for name in cls.model_fields if hasattr(settings, f"coach_{name}")
        }
        return cls(**{**base, **(overrides or {})})
