"""Models with a published shutdown date, and the start-up warning when a configured one is close.

A provider retiring a model answers errors from that day on; every utterance would then fall back
(or fail). Escuta warns at start-up (`escuta api`, `escuta worker`, `escuta run`) and in `/health/stt`
when a configured model shuts down within `WARN_DAYS` days, or already has.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.settings import Settings

log = logging.getLogger("escuta.stt")

WARN_DAYS = 90

# Published shutdown dates (shared/reference/providers.md, OpenAI's model list as of 2026-11): every
# OpenAI transcription model but `gpt-transcribe` stops on 2027-02-26.
SHUTDOWNS: dict[tuple[str, str], date] = {
    ("openai", "gpt-4o-transcribe"): date(2027, 2, 26),
    ("openai", "gpt-4o-mini-transcribe"): date(2027, 2, 26),
    ("openai", "gpt-4o-mini-transcribe-2025-12-15"): date(2027, 2, 26),
    ("openai", "gpt-4o-transcribe-diarize"): date(2027, 2, 26),
    ("openai", "whisper-1"): date(2027, 2, 26),
}


@dataclass(frozen=True, slots=True)
class ModelShutdown:
    setting: str  # the environment variable that names the model
    provider: str
    model: str
    shutdown: date
    days_left: int

    def message(self) -> str:
        when = (
            f"shuts down on {self.shutdown.isoformat()} ({self.days_left} days)"
            if self.days_left >= 0
            else f"was shut down on {self.shutdown.isoformat()}"
        )
        return f"speech-to-text model {self.model!r} ({self.provider}, {self.setting}) {when}: choose another model"


def configured_models(settings: Settings) -> list[tuple[str, str, str]]:
    """(setting, provider, model) for every model name in the speech-to-text settings."""
    s = settings.stt
    return [
        ("ESCUTA_STT_OPENAI_MODEL", "openai", s.openai_model),
        ("ESCUTA_STT_OPENAI_COMPATIBLE_MODEL", "openai_compatible", s.openai_compatible_model),
        ("ESCUTA_STT_ELEVENLABS_MODEL", "elevenlabs", s.elevenlabs_model),
        ("ESCUTA_STT_ELEVENLABS_REALTIME_MODEL", "elevenlabs_realtime", s.elevenlabs_realtime_model),
        ("ESCUTA_STT_ASSEMBLYAI_MODEL", "assemblyai", s.assemblyai_model),
        ("ESCUTA_STT_ASSEMBLYAI_MULTILINGUAL_MODEL", "assemblyai", s.assemblyai_multilingual_model),
        ("ESCUTA_STT_LOCAL_MODEL", "local", s.local_model),
        ("ESCUTA_STT_LOCAL_MULTILINGUAL_MODEL", "local", s.local_multilingual_model),
    ]


def upcoming_shutdowns(
    settings: Settings, today: date | None = None, within_days: int = WARN_DAYS
) -> list[ModelShutdown]:
    today = today or datetime.now(UTC).date()
    found = []
    for setting, provider, model in configured_models(settings):
        when = SHUTDOWNS.get((provider, model))
        if when is not None and (when - today).days <= within_days:
            found.append(ModelShutdown(setting, provider, model, when, (when - today).days))
    return found


def warn_model_shutdowns(settings: Settings, today: date | None = None) -> list[ModelShutdown]:
    """Log one warning per configured model that shuts down within `WARN_DAYS` days (or already has)."""
    found = upcoming_shutdowns(settings, today)
    for shutdown in found:
        log.warning("%s", shutdown.message())
    return found
