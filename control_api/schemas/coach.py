"""Seed 002's coach observability answers: the per-participant debug view and the meeting's event metrics."""

from __future__ import annotations

from collections.abc import Iterable

from asyncpg import Record
from pydantic import BaseModel, ConfigDict, Field

from control_api.schemas.common import Timestamp
from db.coach import MeetingCounts, ProsodyStatusRow


class ParticipantLevels(BaseModel):
    """The latest level snapshot of one participant, as the agent stored it."""

    participantId: str
    t: float = Field(description="Session clock, seconds.")
    at: Timestamp
    speechCoverage10s: float = Field(description="Share of the last 10 s with speech (0 to 1).")
    meanRmsDbfs3s: float = Field(description="Mean RMS over the last 3 s, dBFS.")
    emaRmsDbfs: float = Field(description="Exponential moving average of the RMS, dBFS.")
    rmsDbfs: float
    peakDbfs: float
    clippingRatio: float
    speaking: bool
    events: int = Field(description="Feedback events generated about this participant.")

    @classmethod
    def from_row(cls, r: Record) -> ParticipantLevels:
        return cls(
            participantId=r["participant_id"],
            t=r["t_s"],
            at=r["at"],
            speechCoverage10s=r["speech_coverage"],
            meanRmsDbfs3s=r["mean_rms_dbfs"],
            emaRmsDbfs=r["ema_rms_dbfs"],
            rmsDbfs=r["rms_dbfs"],
            peakDbfs=r["peak_dbfs"],
            clippingRatio=r["clipping_ratio"],
            speaking=r["speaking"],
            events=r["events"],
        )


class ProsodyStatus(BaseModel):
    """Which prosody measure the meeting's coach uses, and whether (and why) it fell back from Hume to the
    local measure (issue 21). Null for a meeting whose coach recorded no status (prosody off, older agent)."""

    requested: str = Field(description="The measure the organization asked for: `hume` or `local`.")
    provider: str = Field(description="The measure in use since `since`.")
    fallback: str | None = Field(description="Why it left the requested measure (e.g. `hume_refused`); null if not.")
    detail: str | None = Field(description="What the provider said, without secrets (e.g. `key refused: HTTP 403`).")
    since: Timestamp
    results: dict[str, int] | None = Field(None, description="(metrics only) prosody results per provider.")
    events: dict[str, int] | None = Field(
        None, description="(metrics only) feedback events per measure in effect (`off`: none recorded)."
    )

    @classmethod
    def of(
        cls, status: ProsodyStatusRow | None, tallies: tuple[dict[str, int], dict[str, int]] | None = None
    ) -> ProsodyStatus | None:
        if status is None:
            return None
        results, events = tallies if tallies is not None else (None, None)
        return cls(
            requested=status.requested,
            provider=status.provider,
            fallback=status.fallback,
            detail=status.detail,
            since=status.at,
            results=results,
            events=events,
        )


class DebugView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "meetingId": "RM_123",
                    "participants": [
                        {
                            "participantId": "user_abc",
                            "t": 42.5,
                            "at": "2024-11-11T23:42:14.123000+00:00",
                            "speechCoverage10s": 0.62,
                            "meanRmsDbfs3s": -29.7,
                            "emaRmsDbfs": -30.2,
                            "rmsDbfs": -28.9,
                            "peakDbfs": -6.1,
                            "clippingRatio": 0.0,
                            "speaking": True,
                            "events": 1,
                        }
                    ],
                }
            ]
        }
    )

    meetingId: str
    participants: list[ParticipantLevels]
    prosody: ProsodyStatus | None

    @classmethod
    def from_rows(cls, meeting_id: str, rows: Iterable[Record], prosody: ProsodyStatus | None) -> DebugView:
        return cls(meetingId=meeting_id, participants=[ParticipantLevels.from_row(r) for r in rows], prosody=prosody)


class LatencyMs(BaseModel):
    """From the end of the analysed window to sending, in milliseconds (null before any event)."""

    mean: float | None
    p95: float | None


class MeetingMetrics(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "meetingId": "RM_123",
                    "total": 4,
                    "sent": 3,
                    "counts": {"volume_baixo": 2, "silencio_prolongado": 1, "overlap_fala": 1},
                    "latencyMs": {"mean": 412.3, "p95": 655.0},
                }
            ]
        }
    )

    meetingId: str
    total: int = Field(description="Feedback events generated.")
    sent: int = Field(description="Of those, events that reached at least one host.")
    counts: dict[str, int] = Field(description="Events per type (volume_baixo, overlap_fala, ...).")
    latencyMs: LatencyMs
    prosody: ProsodyStatus | None

    @classmethod
    def of(cls, meeting_id: str, m: MeetingCounts, prosody: ProsodyStatus | None) -> MeetingMetrics:
        return cls(
            prosody=prosody,
            meetingId=meeting_id,
            total=m.total,
            sent=m.sent,
            counts=m.counts,
            latencyMs=LatencyMs(
                mean=round(m.mean_latency_ms, 1) if m.mean_latency_ms is not None else None,
                p95=round(m.p95_latency_ms, 1) if m.p95_latency_ms is not None else None,
            ),
        )
