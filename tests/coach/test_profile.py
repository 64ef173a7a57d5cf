"""The `meeting_coach` profile off the room: the worker's own `ParticipantFeed`s, a recording publisher,
PostgreSQL. The same profile through a live room is tests/coach/test_live.py."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
import pytest

from agents.audio import load_silero
from agents.audio.frames import frames_from_array
from agents.coach.feedback import FEEDBACK_TOPIC
from agents.coach.profile import MeetingCoachProfile, choose_prosody
from agents.coach.prosody import LocalProsody, ProsodyStatus
from agents.coach.prosody.base import Utterance
from agents.coach.prosody.fallback import HumeWithLocalFallback
from agents.coach.prosody.hume import HumeStream
from agents.coach.store import load_org_config
from agents.listening import ParticipantFeed
from agents.profiles import ProfileContext, SessionInfo, Speaker
from db import coach as repo
from db.credentials import MissingCredentialError, resolve_credential
from db.tenancy import tenant_connection
from tests.accounts.helpers import register
from tests.coach.hume_stub import API_KEY, HumeStub
from tests.coach.meetings import LIVE_LENGTH, NAMES, Meeting, multichannel
from tests.conftest import make_settings

PAYLOAD_KEYS = {"id", "type", "severity", "ts", "meetingId", "participantId", "window", "message", "tips", "metadata"}
HOST = '{"roles":["host"],"name":"Ana"}'


@dataclass
class Recorder:
    """A `Publisher` that keeps what the profile sends and records."""

    sent: list[tuple[str, str, list[str] | None]] = field(default_factory=list)
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def publish_transcript(self, speaker: Speaker, segment_id: str, text: str) -> None:
        raise AssertionError("the coach publishes no transcripts")

    async def send_text(
        self, topic: str, text: str, *, to: list[str] | None = None, attributes: dict[str, str] | None = None
    ) -> None:
        self.sent.append((topic, text, to))

    def record(self, kind: str, data: dict[str, Any]) -> None:
        self.records.append((kind, data))


Pause = tuple[float, Callable[[MeetingCoachProfile], Awaitable[None]]]


async def run_profile(
    meeting: Meeting,
    ctx: ProfileContext,
    metadata: dict[str, str],
    offsets: dict[str, float] | None = None,
    *,
    pause: Pause | None = None,
) -> MeetingCoachProfile:
    """Every participant's track through its own `ParticipantFeed`, frame by frame in turn (one clock).

    The frames go in without yielding to the event loop; `pause=(seconds, wait)` awaits `wait(profile)`
    once that much of the meeting has gone in (for what background tasks must do by then)."""
    profile = MeetingCoachProfile()
    await profile.start(ctx)
    model = load_silero()
    feeds = {
        who: ParticipantFeed(
            profile,
            Speaker(
                who,
                f"TR_{who}",
                clock_offset=(offsets or {}).get(who, 0.0),
                name=NAMES.get(who, who),
                metadata=metadata.get(who, '{"roles":["guest"]}'),
            ),
            vad_model=model,
        )
        for who in meeting.tracks
    }
    iters = {
        who: frames_from_array(x[round((offsets or {}).get(who, 0.0) * 16000) :], 16000, 20)
        for who, x in meeting.tracks.items()
    }
    step = 0
    while iters:
        if pause is not None and step == round(pause[0] * 50):  # 20 ms frames
            await pause[1](profile)
        step += 1
        for who in list(iters):
            frame = next(iters[who], None)
            if frame is None:
                del iters[who]
                await feeds[who].close()
            else:
                feeds[who].push(frame)
    await profile.aclose()
    return profile


def context(settings: Any, publisher: Recorder, pool: asyncpg.Pool | None, org: uuid.UUID | None) -> ProfileContext:
    session = SessionInfo("RM_profile", "Meet-room", org, "Meet", datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    return ProfileContext(session, settings, publisher, pool, None)


async def coach_org(client: httpx.AsyncClient, pool: asyncpg.Pool, name: str, *, recordings: bool) -> uuid.UUID:
    """A new organization with its own coach settings: a long silence allowance, recordings on or off."""
    org = await register(client, name)
    org_id = uuid.UUID(org.org_id)
    async with tenant_connection(pool, org_id) as conn:
        await repo.set_coach_settings(conn, org_id, {"silence_seconds": 300.0}, recordings_enabled=recordings)
    return org_id


async def test_feedback_goes_to_the_host_only_is_stored_and_recorded(
    live_meeting: Meeting, client: httpx.AsyncClient, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    org_id = await coach_org(client, db_pool, "Coach Profile Org", recordings=True)
    settings = make_settings(database_url=database_url, recordings_dir=tmp_path / "storage", recordings_group_seconds=5)
    pub = Recorder()
    # Bruno joins 0.5 s into the session: his track's clock starts there, as a late subscription's would.
    profile = await run_profile(live_meeting, context(settings, pub, db_pool, org_id), {"ana": HOST}, {"bruno": 0.5})

    got = {(json.loads(text)["type"], json.loads(text)["participantId"]) for _, text, _ in pub.sent}
    assert got == {("volume_baixo", "bruno"), ("overlap_fala", "fabio")}
    assert all(topic == FEEDBACK_TOPIC and to == ["ana"] for topic, _, to in pub.sent)
    feedback = [d for kind, d in pub.records if kind == "feedback"]
    assert [d["payload"] for d in feedback] == [json.loads(text) for _, text, _ in pub.sent]
    assert all(set(d["payload"]) == PAYLOAD_KEYS and d["recipients"] == ["ana"] for d in feedback)
    low = next(d["payload"] for d in feedback if d["payload"]["type"] == "volume_baixo")
    assert low["message"].startswith("Bruno:") and low["metadata"]["rmsDbfs"] < -40
    assert profile.summary()["by_type"] == {"volume_baixo": 1, "overlap_fala": 1}

    async with tenant_connection(db_pool, org_id) as conn:
        rows = await conn.fetch("SELECT payload, recipients FROM feedback_events WHERE meeting_id = 'RM_profile'")
        snapshots = await conn.fetchval("SELECT count(DISTINCT participant_id) FROM feedback_snapshots")
        prosody = await conn.fetch("SELECT DISTINCT participant_id FROM prosody_results")
    assert sorted(r["payload"]["id"] for r in rows) == sorted(d["payload"]["id"] for d in feedback)
    assert all(
        r["payload"] == next(d["payload"] for d in feedback if d["payload"]["id"] == r["payload"]["id"]) for r in rows
    )
    assert all(r["recipients"] == ["ana"] for r in rows)
    assert snapshots == 4  # the host's levels are shown in the debug view too; only feedback skips hosts
    assert {r["participant_id"] for r in prosody} <= {"bruno", "eva", "fabio"}  # never about the host

    # Seed 002's egress layout: each participant's track as WAV segments of 5 s, plus the flush log.
    folder = tmp_path / "storage" / "egress" / "audio" / "RM_profile"
    for who in live_meeting.tracks:
        files = sorted(folder.glob(f"*_Meet-room_{who}_TR_{who}.wav"))
        total = 0.0
        for f in files:
            with wave.open(str(f)) as w:
                assert w.getframerate() == 16000 and w.getnchannels() == 1
                total += w.getnframes() / 16000
        offset = 0.5 if who == "bruno" else 0.0
        assert len(files) == 5 and abs(total - (LIVE_LENGTH - offset)) < 0.05, (who, len(files), total)
    log = (tmp_path / "storage" / "pipeline-logs" / "RM_profile.log").read_text().splitlines()
    assert len(log) == 20 and profile.stats["segments"] == 20


async def test_an_organization_with_recordings_off_gets_no_wav_files(
    live_meeting: Meeting, client: httpx.AsyncClient, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    # The platform records by default; this organization has switched its recordings off.
    org_id = await coach_org(client, db_pool, "Unrecorded Org", recordings=False)
    storage = tmp_path / "storage"
    settings = make_settings(
        database_url=database_url, recordings_enabled=True, recordings_dir=storage, recordings_group_seconds=5
    )
    other = await register(client, "Default Org")  # no coach_settings row: the platform default applies
    assert (await load_org_config(db_pool, settings, uuid.UUID(other.org_id)))[1] is True
    assert (await load_org_config(db_pool, settings, org_id))[1] is False

    pub = Recorder()
    profile = await run_profile(live_meeting, context(settings, pub, db_pool, org_id), {"ana": HOST})
    assert profile.recording is None and profile.stats["segments"] == 0
    assert not storage.exists()  # no WAV segment, no flush log, not even the folders
    # Only the recording is off: the coaching goes on as usual.
    got = {(json.loads(text)["type"], json.loads(text)["participantId"]) for _, text, _ in pub.sent}
    assert got == {("volume_baixo", "bruno"), ("overlap_fala", "fabio")}


async def test_hume_results_are_stored_per_utterance_for_the_organization_only(
    live_meeting: Meeting,
    client: httpx.AsyncClient,
    db_pool: asyncpg.Pool,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The organization's own Hume key, through the control API, as an operator would store it.
    org = await register(client, "Hume Org")
    org_id = uuid.UUID(org.org_id)
    put = await client.put("/credentials/hume", json={"secret": API_KEY}, headers=org.headers)
    assert put.status_code in (200, 201, 204), put.text
    # The first connection drops 3.8 s into an utterance, after its first 3 s window was measured, so
    # that window is measured again on the next connection. Bruno's -46 dBFS voice is below the stub's
    # default speech level: it listens down to -61 dBFS (RMS 30), so every utterance gets measured.
    stub = HumeStub(drop_after_frames=38, speech_rms=30.0)
    await stub.start()
    pushed: list[Utterance] = []
    push = HumeStream.push

    def spy(self: HumeStream, utterance: Utterance) -> None:
        pushed.append(utterance)
        push(self, utterance)

    monkeypatch.setattr(HumeStream, "push", spy)
    settings = make_settings(database_url=database_url, hume_realtime_url=stub.url, coach_silence_seconds=300.0)

    async def resolve(credential: str) -> str:  # what the worker hands the profile (agents/worker.py)
        return await resolve_credential(db_pool, org_id, credential, settings=settings)

    ctx = replace(context(settings, Recorder(), db_pool, org_id), resolve_credential=resolve)
    try:
        profile = await run_profile(live_meeting, ctx, {"ana": HOST})
    finally:
        await stub.stop()
    assert profile.prosody_name == "hume"
    assert stub.sessions[0].closed_reason == "dropped" and len(stub.sessions) >= 4  # one per participant + 1

    async with tenant_connection(db_pool, org_id) as conn:
        rows = await conn.fetch(
            "SELECT org_id, participant_id, provider, utterance_start, utterance_end, window_start, window_end,"
            " features FROM prosody_results WHERE meeting_id = 'RM_profile' ORDER BY participant_id, window_start"
        )
    measured = sum(m["type"] == "measurement.result" for s in stub.sessions for m in s.messages)
    assert rows and len(rows) < measured  # the window re-measured after the drop is stored once
    assert all(r["org_id"] == org_id and r["provider"] == "hume" for r in rows)
    assert len({(r["participant_id"], r["window_start"], r["window_end"]) for r in rows}) == len(rows)
    # Per utterance: every utterance the coach handed to Hume has its measurements, tagged with its own
    # times on the session clock, and every measurement falls inside the audio that was sent for it.
    utterances = {(u.participant_id, u.start, u.end): u for u in pushed}
    assert {p for p, _, _ in utterances} == {"bruno", "eva", "fabio"}  # never the host
    assert {(r["participant_id"], r["utterance_start"], r["utterance_end"]) for r in rows} == set(utterances)
    for r in rows:
        u = utterances[(r["participant_id"], r["utterance_start"], r["utterance_end"])]
        assert u.audio_start - 0.01 <= r["window_start"] < r["window_end"] <= u.end + 0.35
        assert r["features"]["expressions"][0] == {"name": "interest", "probability": 0.62}
        assert r["features"]["trigger"] in ("interval", "speech_ended")

    # Tenant-scoped: another organization sees none of them.
    other = await register(client, "Other Hume Org")
    async with tenant_connection(db_pool, uuid.UUID(other.org_id)) as conn:
        assert await conn.fetchval("SELECT count(*) FROM prosody_results") == 0


async def test_without_a_host_events_are_recorded_and_nothing_is_sent(live_meeting: Meeting) -> None:
    pub = Recorder()
    settings = make_settings(coach_silence_seconds=300.0)
    profile = await run_profile(live_meeting, context(settings, pub, None, None), {})
    assert pub.sent == []
    feedback = [d for kind, d in pub.records if kind == "feedback"]
    assert {(d["payload"]["type"], d["payload"]["participantId"]) for d in feedback} == {
        ("volume_baixo", "bruno"),
        ("overlap_fala", "fabio"),
    }
    assert all(d["recipients"] == [] for d in feedback)
    assert profile.summary()["sent"] == 0


async def test_a_host_is_never_the_subject(live_meeting: Meeting) -> None:
    # Bruno (the quiet one) hosts with Ana: nothing about him, and both hosts receive the overlap.
    pub = Recorder()
    profile = await run_profile(
        live_meeting, context(make_settings(coach_silence_seconds=300.0), pub, None, None), {"ana": HOST, "bruno": HOST}
    )
    assert [(json.loads(t)["type"], json.loads(t)["participantId"], to) for _, t, to in pub.sent] == [
        ("overlap_fala", "fabio", ["ana", "bruno"])
    ]
    assert profile.summary()["feedback"] == 1


async def test_prosody_is_hume_only_with_the_organizations_own_key() -> None:
    async def has_key(provider: str) -> str:
        assert provider == "hume"
        return "hume-org-key"

    async def no_key(provider: str) -> str:
        raise MissingCredentialError(uuid.uuid4(), provider)

    hume = await choose_prosody(make_settings(coach_hume_trailing_silence_seconds=0.8), has_key)
    # Hume, with the local measure ready to take over for the meeting (tests/coach/test_prosody_fallback.py).
    assert isinstance(hume, HumeWithLocalFallback) and hume.hume.api_key == "hume-org-key"
    assert hume.hume.tail_s == 0.8 and hume.status() == ProsodyStatus("hume", "hume")
    await hume.aclose()
    local = await choose_prosody(make_settings(), no_key)
    assert isinstance(local, LocalProsody) and local.status() == ProsodyStatus("local", "local")
    wanted = await choose_prosody(make_settings(coach_prosody_provider="hume"), no_key)
    assert isinstance(wanted, LocalProsody)
    assert wanted.status() == ProsodyStatus("hume", "local", "no_hume_credential")
    assert isinstance(await choose_prosody(make_settings(), None), LocalProsody)  # no organization: local
    assert await choose_prosody(make_settings(coach_prosody_provider="off"), has_key) is None


def test_escuta_replay_prints_the_feedback_events_as_json_lines(live_meeting: Meeting, tmp_path: Path) -> None:
    path = multichannel(live_meeting, ["ana", "bruno", "eva", "fabio"], tmp_path / "live4.wav")
    done = subprocess.run(
        [sys.executable, "-m", "escuta.cli", "replay", str(path), "--profile", "meeting_coach", "--speakers", "4"],
        capture_output=True,
        text=True,
        timeout=240,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    events = [x for x in lines if x["event"] == "feedback"]
    # Channels are participants speaker-1..4 (Ana, Bruno, Eva, Fábio); a replay has no tokens, so no hosts.
    assert {(e["payload"]["type"], e["payload"]["participantId"]) for e in events} == {
        ("volume_baixo", "speaker-2"),
        ("overlap_fala", "speaker-4"),
    }
    assert all(set(e["payload"]) == PAYLOAD_KEYS and e["recipients"] == [] for e in events)
    assert lines[-1]["event"] == "summary" and lines[-1]["profile"] == "meeting_coach"
    assert lines[-1]["by_type"] == {"volume_baixo": 1, "overlap_fala": 1} and lines[-1]["sent"] == 0
    assert np.isfinite(lines[-1]["audio_seconds"]) and lines[-1]["audio_seconds"] == pytest.approx(
        LIVE_LENGTH, abs=0.05
    )
