"""Monitoring presets and how a streamer's effective burst settings are resolved.

A burst is ``min_clips`` clips within ``interval_seconds`` (see ``bursts.py``). Presets name three
trade-offs between catching every moment and staying quiet; a streamer (or a request) picks one and may
override either number. Resolution, in order: the named preset, else the streamer's stored settings,
else the default preset; then the explicit overrides; then bounds checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

PresetName = Literal["sensitive", "balanced", "conservative"]
PRESET_NAMES: tuple[str, ...] = get_args(PresetName)
DEFAULT_PRESET: PresetName = "balanced"

INTERVAL_MIN, INTERVAL_MAX = 10, 86_400
MIN_CLIPS_MIN, MIN_CLIPS_MAX = 2, 1_000


@dataclass(frozen=True, slots=True)
class Monitoring:
    interval_seconds: int
    min_clips: int


PRESETS: dict[str, tuple[Monitoring, str]] = {
    "sensitive": (Monitoring(60, 3), "3 clips within 1 minute: flags smaller moments, more noise."),
    "balanced": (Monitoring(120, 5), "5 clips within 2 minutes: the default."),
    "conservative": (Monitoring(300, 10), "10 clips within 5 minutes: only big moments."),
}


class MonitoringError(ValueError):
    """A resolved setting is out of bounds or a preset is unknown; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class Resolved:
    preset: str | None  # None when an override moved the settings off every preset
    monitoring: Monitoring
    sources: dict[str, str]  # field -> "preset" | "streamer" | "override"

    def as_json(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "monitor_interval_seconds": self.monitoring.interval_seconds,
            "monitor_min_clips": self.monitoring.min_clips,
            "sources": self.sources,
        }


def presets_json() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "monitor_interval_seconds": m.interval_seconds,
            "monitor_min_clips": m.min_clips,
            "description": description,
            "default": name == DEFAULT_PRESET,
        }
        for name, (m, description) in PRESETS.items()
    ]


def check_bounds(interval_seconds: int, min_clips: int) -> None:
    if not INTERVAL_MIN <= interval_seconds <= INTERVAL_MAX:
        raise MonitoringError("monitor_interval_seconds", f"must be between {INTERVAL_MIN} and {INTERVAL_MAX} seconds")
    if not MIN_CLIPS_MIN <= min_clips <= MIN_CLIPS_MAX:
        raise MonitoringError("monitor_min_clips", f"must be between {MIN_CLIPS_MIN} and {MIN_CLIPS_MAX}")


def resolve(
    *,
    preset: str | None = None,
    interval_seconds: int | None = None,
    min_clips: int | None = None,
    current: Monitoring | None = None,
    current_preset: str | None = None,
) -> Resolved:
    """The effective settings: preset (or ``current``, the streamer's) plus overrides, validated."""
    name: str | None
    if preset is not None:
        if preset not in PRESETS:
            raise MonitoringError("preset", f"unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")
        base, origin, name = PRESETS[preset][0], "preset", preset
    elif current is not None:
        base, origin, name = current, "streamer", current_preset
    else:
        base, origin, name = PRESETS[DEFAULT_PRESET][0], "preset", DEFAULT_PRESET
    sources = {"monitor_interval_seconds": origin, "monitor_min_clips": origin}
    interval, clips = base.interval_seconds, base.min_clips
    if interval_seconds is not None:
        interval, sources["monitor_interval_seconds"] = interval_seconds, "override"
    if min_clips is not None:
        clips, sources["monitor_min_clips"] = min_clips, "override"
    check_bounds(interval, clips)
    result = Monitoring(interval, clips)
    # The name survives only while the numbers still are that preset's.
    if name is not None and (name not in PRESETS or PRESETS[name][0] != result):
        name = None
    return Resolved(name, result, sources)
