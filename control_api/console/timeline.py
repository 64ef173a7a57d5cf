"""A session's timeline for the console: its page and its live sections read the same rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from db import coach as coach_repo
from db import console as repo
from db import sessions as sessions_repo
from db import transcription as transcription_repo
from db.tenancy import tenant_connection


@dataclass
class Timeline:
    session: Any
    participants: list[Any]
    transcript: list[Any]
    speakers: list[str]
    feedback: list[Any]
    coach: coach_repo.MeetingCounts
    recommendations: list[Any]
    levels: list[Any]

    def fragments(self) -> dict[str, Any]:
        return {
            "participants": self.participants,
            "transcript": self.transcript,
            "speakers": self.speakers,
            "feedback": self.feedback,
            "coach": self.coach,
            "recommendations": self.recommendations,
        }

    def level_chart(self) -> dict[str, Any] | None:
        """Each participant's level (dBFS) and the coach's feedback on the session clock, for Chart.js."""
        if not self.levels:
            return None
        start = self.session["started_at"] if self.session else self.levels[0]["at"]
        series: dict[str, list[list[float]]] = {}
        for r in self.levels:
            series.setdefault(r["participant_id"], []).append(
                [round((r["at"] - start).total_seconds(), 1), round(r["mean_rms_dbfs"], 1)]
            )
        marks = [
            {"x": round((f["sent_at"] - start).total_seconds(), 1), "type": f["type"], "who": f["participant_id"]}
            for f in self.feedback
        ]
        return {"series": series, "feedback": marks}


async def load_timeline(pool: Any, org_id: uuid.UUID | None, meeting_id: str) -> Timeline | None:
    async with tenant_connection(pool, org_id) as conn:
        rows = await sessions_repo.get_session(conn, meeting_id, org_id)
        transcript = await transcription_repo.list_transcript(conn, meeting_id, org_id)
        if rows is None and not transcript:
            return None
        feedback = await repo.meeting_feedback(conn, meeting_id, org_id)
        coach = await coach_repo.metrics(conn, meeting_id, org_id)
        recs = await repo.meeting_recommendations(conn, meeting_id, org_id) if org_id else []
        levels = await repo.meeting_levels(conn, meeting_id, org_id)
    speakers = list(dict.fromkeys(u["participant_identity"] for u in transcript))
    return Timeline(
        rows.session if rows else None,
        rows.participants if rows else [],
        transcript,
        speakers,
        feedback,
        coach,
        recs,
        levels,
    )
