"""The jobs every scheduler process runs. Later issues add theirs here (retention, reconciliation...)."""

from __future__ import annotations

import asyncpg

from core.settings import Settings
from jobs.scheduler import Job


def default_jobs(settings: Settings, pool: asyncpg.Pool) -> list[Job]:
    from jobs.avatar_usage import UsageReconciliation
    from jobs.clips.ingest import ClipIngestion
    from jobs.coach_retention import FeedbackRetention

    ingestion = ClipIngestion(pool, settings)
    retention = FeedbackRetention(pool, settings)  # issue 9: meeting-coach rows past FEEDBACK_TTL_DAYS
    return [
        Job("clips.ingest", settings.clips.ingestion_interval_seconds, ingestion.run),
        Job("feedback.retention", settings.coach.feedback_retention_interval_seconds, retention.run),
        # issue 10: usage of avatar sessions whose agent crashed, from the webhooks' participant times
        Job("avatar.usage", settings.avatar.usage_reconcile_interval_seconds, UsageReconciliation(pool, settings).run),
    ]
