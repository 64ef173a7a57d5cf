"""The jobs every scheduler process runs. Later issues add theirs here (retention, reconciliation...)."""

from __future__ import annotations

import asyncpg

from escuta.scheduler.scheduler import Job
from escuta.settings import Settings


def default_jobs(settings: Settings, pool: asyncpg.Pool) -> list[Job]:
    from escuta.avatar.reconcile import UsageReconciliation
    from escuta.clips.ingest import ClipIngestion
    from escuta.scheduler.feedback_retention import FeedbackRetention

    ingestion = ClipIngestion(pool, settings)
    retention = FeedbackRetention(pool, settings)  # issue 9: meeting-coach rows past FEEDBACK_TTL_DAYS
    return [
        Job("clips.ingest", settings.clips_ingestion_interval_seconds, ingestion.run),
        Job("feedback.retention", settings.feedback_retention_interval_seconds, retention.run),
        # issue 10: usage of avatar sessions whose agent crashed, from the webhooks' participant times
        Job("avatar.usage", settings.avatar_usage_reconcile_interval_seconds, UsageReconciliation(pool, settings).run),
    ]
