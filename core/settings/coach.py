"""The meeting coach's settings (seed 002): the feedback rules' thresholds, prosody, retention, recordings.

The thresholds are declared once, here: `CoachThresholds` is both the `ESCUTA_COACH_*` settings and the
object the rules engine reads; an organization overrides any of them in the `coach_settings` table
(`CoachSettings.thresholds_for`). Each "exit" value is the hysteresis bound.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from core.settings.base import Section


class CoachThresholds(Section):
    """Every threshold of the feedback rules."""

    prefix: ClassVar[str] = "coach_"
    settings_fields: ClassVar[frozenset[str] | None] = frozenset(
        {
            "volume_low_dbfs",
            "volume_low_exit_dbfs",
            "volume_high_dbfs",
            "volume_high_exit_dbfs",
            "clipping_ratio",
            "volume_sustain_seconds",
            "silence_seconds",
            "overlap_seconds",
            "monologue_seconds",
            "turn_gap_seconds",
            "monotone_range_semitones",
            "fast_syllable_rate",
            "prosody_sustain_seconds",
            "cooldown_seconds",
        }
    )

    volume_low_dbfs: float = Field(
        -36.0, description="`volume_baixo` when a participant's active speech level stays below this (dBFS)."
    )
    volume_low_exit_dbfs: float = Field(
        -32.0, description="`volume_baixo` re-arms only after speech louder than this (hysteresis)."
    )
    volume_high_dbfs: float = Field(
        -10.0, description="`volume_alto` when active speech level stays above this (dBFS), or it clips."
    )
    volume_high_exit_dbfs: float = Field(
        -14.0, description="`volume_alto` re-arms only after speech quieter than this (hysteresis)."
    )
    clipping_ratio: float = Field(
        0.002, ge=0, description="Fraction of clipped samples in an utterance that counts as too loud."
    )
    volume_sustain_seconds: float = Field(
        3.0, ge=0, description="Speech that must be judged too quiet/loud in a row before the event fires."
    )
    silence_seconds: float = Field(
        20.0, gt=0, description="`silencio_prolongado`: nobody in the meeting speaks for this long."
    )
    overlap_seconds: float = Field(
        1.5, gt=0, description="`overlap_fala`: two participants speak at once for this long."
    )
    monologue_seconds: float = Field(
        45.0, gt=0, description="`monologo_prolongado`: one participant holds the floor for this long."
    )
    turn_gap_seconds: float = Field(
        3.0, gt=0, description="A pause this long (or someone else speaking) ends a participant's turn."
    )
    monotone_range_semitones: float = Field(
        2.0, gt=0, description="`tom_monotono`: pitch range (10th-90th percentile) narrower than this."
    )
    fast_syllable_rate: float = Field(
        5.0, gt=0, description="`fala_acelerada`: voiced nuclei per second (a syllable-rate proxy) above this."
    )
    prosody_sustain_seconds: float = Field(
        8.0, ge=0, description="Voiced speech that must show a prosody trait before its event fires."
    )
    cooldown_seconds: float = Field(
        30.0, ge=0, description="Minimum time between two events of one type about one participant."
    )
    # Not settings: fixed design choices, overridable per organization only if someone needs to.
    critical_factor: float = Field(2.0, gt=1)  # duration thresholds x this = severity "critical"
    critical_margin_db: float = Field(8.0, gt=0)  # this far past a level threshold = "critical"

    @model_validator(mode="after")
    def _hysteresis(self) -> Self:
        # An exit bound on the wrong side of its threshold would re-arm at once and defeat hysteresis.
        if self.volume_low_exit_dbfs < self.volume_low_dbfs:
            raise ValueError("volume_low_exit_dbfs must be >= volume_low_dbfs")
        if self.volume_high_exit_dbfs > self.volume_high_dbfs:
            raise ValueError("volume_high_exit_dbfs must be <= volume_high_dbfs")
        return self


class RecordingsSettings(Section):
    """Seed 002's egress: each participant's audio as WAV segments, and optionally LiveKit video egress."""

    prefix: ClassVar[str] = "recordings_"

    enabled: bool = Field(
        False, description="Write each participant's audio as WAV segments (organizations may override)."
    )
    dir: Path = Field(
        Path("storage"), description="Root of `egress/audio/<meetingId>/` and `pipeline-logs/` (seed 002)."
    )
    group_seconds: float = Field(2.0, gt=0, description="Seconds of audio per WAV segment.")
    normalize: bool = Field(False, description="Peak-normalise each WAV segment before writing it.")
    video_egress: bool = Field(
        False,
        description="Start a LiveKit track egress for each video track published in a meeting-coach room of an "
        "organization whose recordings are on (needs LiveKit's Egress service).",
    )
    video_filepath: str = Field(
        "egress/video/{room_name}/{time}_{publisher_identity}_{track_id}",
        description="The track egress's file path on the Egress service's storage (LiveKit's filename templates).",
    )


class CoachSettings(Section):
    prefix: ClassVar[str] = "coach_"
    flat_names: ClassVar[dict[str, str]] = {
        "hume_realtime_url": "hume_realtime_url",
        "feedback_ttl_days": "feedback_ttl_days",
        "feedback_retention_interval_seconds": "feedback_retention_interval_seconds",
    }
    env_aliases: ClassVar[dict[str, tuple[str, ...]]] = {
        "feedback_ttl_days": ("ESCUTA_FEEDBACK_TTL_DAYS", "FEEDBACK_TTL_DAYS")
    }

    thresholds: CoachThresholds = CoachThresholds()
    """The thresholds every organization starts from (`ESCUTA_COACH_*`)."""
    prosody_provider: Literal["local", "hume", "off"] = Field(
        "local", description="Prosody analysis: `local` (numpy, offline), `hume` (Expression Measurement v1)."
    )
    snapshot_interval_seconds: float = Field(
        3.0, gt=0, description="How often the agent stores level snapshots for `GET /feedback/debug`."
    )
    hume_realtime_url: str = Field(
        "wss://api.cloud.hume.ai/v1/expression/audio/realtime",
        description="Hume Expression Measurement v1 realtime audio endpoint (tests point it at a stub).",
    )
    hume_trailing_silence_seconds: float = Field(
        0.3,
        ge=0,
        le=5,
        description="Silence sent to Hume after each utterance so it closes its own utterance there. Less than "
        "Hume needs: the utterance is closed by the next one's audio, or, the last of a meeting, at session close; "
        "more than the pause between utterances: the participant's queue to Hume falls behind real time.",
    )
    feedback_ttl_days: float = Field(
        14.0,
        gt=0,
        description="Feedback events, snapshots and prosody results older than this are deleted "
        "(seed 002's `FEEDBACK_TTL_DAYS`).",
    )
    feedback_retention_interval_seconds: float = Field(
        3600.0, gt=0, description="How often the scheduler runs the feedback retention job."
    )

    recordings: RecordingsSettings = RecordingsSettings()

    def thresholds_for(self, overrides: dict[str, Any] | None = None) -> CoachThresholds:
        """The settings' thresholds, then an organization's overrides (unknown keys are an error)."""
        return self.thresholds.updated(**(overrides or {}))
