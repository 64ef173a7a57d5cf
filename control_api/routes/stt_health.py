"""`GET /health/stt`: what speech-to-text can do on this platform, before any room is tried.

Public like the other health checks, so it carries no tenant data: the platform's default language
and provider order (and whether that order can hear that language), which languages offline
transcription covers (the installed local models), each provider's model for English and for other
languages, and configured models with a shutdown date within 90 days. An organization's own view,
per solution, is in `GET /organization/language` and the solutions' `speechToText`.
"""

from __future__ import annotations

from fastapi import APIRouter

from control_api.deps import AppSettings
from control_api.schemas.speech import SttHealth
from control_api.services.speech import platform_stt

router = APIRouter(tags=["health"])


@router.get("/health/stt")
async def stt_health(settings: AppSettings) -> SttHealth:
    """Speech-to-text readiness: `status` is `degraded` when the default order cannot hear the default
    language, or a configured model is past its shutdown date."""
    return SttHealth.model_validate(platform_stt(settings))
