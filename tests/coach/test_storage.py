"""Storage and observability: events and snapshots as the agent writes them, the seed's routes reading
them back tenant-scoped, and the retention job deleting exactly what is past the TTL."""

from __future__ import annotations

import json
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import numpy as np
import pytest

from agents.coach.store import CoachStore, QueuedOutputs, load_org_config
from core.settings import Settings
from db import coach as repo
from db.tenancy import tenant_connection
from jobs.coach_retention import FeedbackRetention
from jobs.registry import default_jobs
from tests.accounts.helpers import register
from tests.coach.conftest import Replayed
from tests.conftest import make_settings

ORIGIN = 1_790_000_000.0  # session-clock zero, epoch seconds


class FakeClock:
    """Sending times: each event goes out a known delay after the coach detected it."""

    def __init__(self, r: Replayed) -> None:
        self.times = [ORIGIN + d.feedback.detected_at + 0.05 * (k + 1) for k, d in enumerate(r.out.deliveries)]

    def __call__(self) -> float:
        return self.times.pop(0)


Sent = list[tuple[tuple[str, ...], dict[str, Any]]]


async def store_meeting(
    pool: asyncpg.Pool, r: Replayed, org_id: uuid.UUID | None, meeting_id: str
) -> tuple[list[float], Sent]:
    """Send and store a replay's outputs as a room would; returns latencies and what the hosts got."""
    store = CoachStore(pool, org_id=org_id, meeting_id=meeting_id, clock_origin=ORIGIN)
    sent: Sent = []

    async def send(recipients: tuple[str, ...], body: str) -> None:
        sent.append((recipients, json.loads(body)))

    outputs = QueuedOutputs(store, send, clock=FakeClock(r))
    for who, snap in r.out.snapshots:
        outputs.snapshot(who, snap)
    for d in r.out.deliveries:
        outputs.delivery(d)
    for res in r.out.results:
        outputs.prosody(res)
    await outputs.aclose()
    return outputs.latencies_ms, sent


async def test_metrics_and_debug_match_the_events(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, problem: Replayed
) -> None:
    org = await register(client, "Coach Org")
    org_id = uuid.UUID(org.org_id)
    lat, sent = await store_meeting(db_pool, problem, org_id, "RM_test")
    expected_lat = [
        (ORIGIN + d.feedback.detected_at + 0.05 * (k + 1) - (ORIGIN + d.feedback.window_end)) * 1000
        for k, d in enumerate(problem.out.deliveries)
    ]
    assert np.allclose(lat, expected_lat, atol=1.0)

    r = await client.get("/feedback/metrics/RM_test", headers=org.headers)
    assert r.status_code == 200, r.text
    m = r.json()
    counts: dict[str, int] = {}
    for d in problem.out.deliveries:
        counts[d.feedback.type] = counts.get(d.feedback.type, 0) + 1
    assert m["counts"] == counts and m["total"] == len(problem.out.deliveries) == m["sent"]
    assert abs(m["latencyMs"]["mean"] - statistics.fmean(expected_lat)) < 1.0
    p95 = float(np.percentile(expected_lat, 95))  # linear interpolation, as percentile_cont
    assert abs(m["latencyMs"]["p95"] - p95) < 1.0

    assert m["prosody"] is None  # stored without a coach runner: no prosody measure was recorded

    r = await client.get("/feedback/debug/RM_test", headers=org.headers)
    assert r.status_code == 200, r.text
    assert r.json()["prosody"] is None
    view = {p["participantId"]: p for p in r.json()["participants"]}
    latest = {}
    for who, snap in problem.out.snapshots:
        latest[who] = snap
    assert set(view) == set(latest)
    for who, snap in latest.items():
        v = view[who]
        assert v["t"] == snap.t
        assert abs(v["speechCoverage10s"] - snap.speech_coverage) < 1e-4
        assert abs(v["meanRmsDbfs3s"] - snap.mean_rms_dbfs) < 1e-3 and abs(v["emaRmsDbfs"] - snap.ema_rms_dbfs) < 1e-3
    per_participant = {d.feedback.participant_id for d in problem.out.deliveries} - {None}
    assert {w for w, v in view.items() if v["events"]} == per_participant

    # Stored exactly as seed 002's payload, with ts = the sending time.
    async with tenant_connection(db_pool, org_id) as conn:
        rows = await conn.fetch("SELECT payload, recipients FROM feedback_events ORDER BY sent_at")
        prosody = await conn.fetchval("SELECT count(*) FROM prosody_results WHERE meeting_id = 'RM_test'")
    assert [row["payload"]["type"] for row in rows] == [d.feedback.type for d in problem.out.deliveries]
    assert all(row["recipients"] == ["ana"] for row in rows)
    # The host got exactly what was stored.
    assert [body for _, body in sent] == [row["payload"] for row in rows]
    assert all(to == ("ana",) for to, _ in sent)
    assert prosody == len(problem.out.results)

    # Another organization: as if the meeting did not exist.
    other = await register(client, "Other Org")
    for path in ("/feedback/metrics/RM_test", "/feedback/debug/RM_test"):
        r = await client.get(path, headers=other.headers)
        assert r.status_code == 404
    assert (await client.get("/feedback/metrics/RM_test")).status_code == 401


async def test_retention_deletes_exactly_what_is_older_than_the_ttl(db_pool: asyncpg.Pool, settings: Settings) -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    cutoff = now - timedelta(days=14)
    ages = {
        "old": cutoff - timedelta(microseconds=1),
        "much-older": cutoff - timedelta(days=30),
        "boundary": cutoff,
        "young": cutoff + timedelta(seconds=1),
        "new": now,
    }
    async with db_pool.acquire() as conn:
        for name, created in ages.items():
            payload = {
                "id": f"fb-{name}",
                "type": "volume_baixo",
                "severity": "warning",
                "ts": 1,
                "meetingId": "RM_r",
                "participantId": "p",
                "window": {"start": 0, "end": 1},
                "message": "x",
                "tips": [],
                "metadata": {},
            }
            await repo.insert_feedback(conn, payload, org_id=None, recipients=(), latency_ms=1.0)
            await conn.execute("UPDATE feedback_events SET created_at = $1 WHERE id = $2", created, payload["id"])
            await conn.execute(
                "INSERT INTO feedback_snapshots (meeting_id, participant_id, t_s, at, rms_dbfs, ema_rms_dbfs,"
                " mean_rms_dbfs, peak_dbfs, clipping_ratio, speech_coverage, speaking, created_at)"
                " VALUES ('RM_r', $1, 0, now(), -20, -20, -20, -3, 0, 0.5, true, $2)",
                name,
                created,
            )
            await conn.execute(
                "INSERT INTO prosody_status (meeting_id, requested, provider, detail, at, created_at)"
                " VALUES ('RM_r', 'hume', 'hume', $1, now(), $2)",
                name,
                created,
            )
    assert settings.coach.feedback_ttl_days == 14
    result = await FeedbackRetention(db_pool, settings).run(now=now)
    deleted = {"feedback_events": 2, "feedback_snapshots": 2, "prosody_results": 0, "prosody_status": 2}
    assert result == {"ttlDays": 14, "deleted": deleted}
    async with db_pool.acquire() as conn:
        left = {r["id"] for r in await conn.fetch("SELECT id FROM feedback_events")}
        snaps = {r["participant_id"] for r in await conn.fetch("SELECT participant_id FROM feedback_snapshots")}
        statuses = {r["detail"] for r in await conn.fetch("SELECT detail FROM prosody_status")}
    assert left == {"fb-boundary", "fb-young", "fb-new"}
    assert snaps == statuses == {"boundary", "young", "new"}


def test_retention_is_a_scheduled_job_with_the_seeds_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    s = make_settings(feedback_retention_interval_seconds=600)
    names = {j.name: j for j in default_jobs(s, None)}  # type: ignore[arg-type]
    assert names["feedback.retention"].interval == 600
    monkeypatch.setenv("FEEDBACK_TTL_DAYS", "3")
    assert make_settings().coach.feedback_ttl_days == 3  # seed 002's variable name is honoured


async def test_organization_coach_settings_round_trip(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    org = await register(client, "Thresholds Org")
    org_id = uuid.UUID(org.org_id)
    async with tenant_connection(db_pool, org_id) as conn:
        assert await repo.coach_settings(conn, org_id) == ({}, None)
        await repo.set_coach_settings(conn, org_id, {"silence_seconds": 30.0}, recordings_enabled=True)
        assert await repo.coach_settings(conn, org_id) == ({"silence_seconds": 30.0}, True)
    other = await register(client, "Other")
    async with tenant_connection(db_pool, uuid.UUID(other.org_id)) as conn:  # RLS: invisible elsewhere
        assert await conn.fetchval("SELECT count(*) FROM coach_settings") == 0
    settings = make_settings(coach_monologue_seconds=50.0)
    th, rec = await load_org_config(db_pool, settings, org_id)
    assert (th.silence_seconds, th.monologue_seconds, rec) == (30.0, 50.0, True)
    th, rec = await load_org_config(db_pool, settings, uuid.UUID(other.org_id))
    assert (th.silence_seconds, rec) == (20.0, False)


async def test_without_hosts_nothing_is_sent_but_the_event_is_kept(db_pool: asyncpg.Pool) -> None:
    from agents.coach.feedback import TIPS, Delivery, Feedback

    fb = Feedback(
        "silencio_prolongado",
        "warning",
        "RM_alone",
        None,
        10.0,
        30.0,
        30.2,
        "Silêncio",
        TIPS["silencio_prolongado"],
        {"rmsDbfs": -90.0, "speechCoverage": 0.0},
    )
    calls: list[tuple[str, ...]] = []

    async def send(recipients: tuple[str, ...], body: str) -> None:
        calls.append(recipients)

    outputs = QueuedOutputs(
        CoachStore(db_pool, org_id=None, meeting_id="RM_alone", clock_origin=ORIGIN), send, clock=lambda: ORIGIN + 30.5
    )
    outputs.delivery(Delivery(fb, ()))
    await outputs.aclose()
    assert calls == []
    async with db_pool.acquire() as conn:
        row = await conn.fetchrow("SELECT recipients, latency_ms, payload FROM feedback_events WHERE id = $1", fb.id)
    assert row is not None and row["recipients"] == [] and abs(row["latency_ms"] - 500.0) < 0.5
    assert row["payload"]["participantId"] is None and row["payload"]["ts"] == round((ORIGIN + 30.5) * 1000)
