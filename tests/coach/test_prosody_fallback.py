"""When Hume refuses the organization's key (401/403: the realtime API is in limited release) or fails
mid-meeting, the rest of that meeting is measured locally: every utterance still gets a prosody result,
the switch is recorded (prosody_status, each feedback event's measure) and shown by `/feedback/debug`
and `/feedback/metrics`, and the next meeting tries Hume again. Against the v1 stub (tests/coach/hume_stub.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import pytest

from agents.audio.events import SpeechEnded
from agents.coach.engine import MeetingCoach
from agents.coach.profile import MeetingCoachProfile
from agents.coach.prosody import ProsodyStatus
from agents.coach.prosody.fallback import HumeWithLocalFallback
from agents.coach.prosody.hume import HumeProsody
from agents.coach.runner import CoachRunner, Collected
from agents.profiles import ProfileContext, SessionInfo
from db.credentials import resolve_credential
from db.tenancy import tenant_connection
from tests.accounts.helpers import Org, register
from tests.coach.hume_stub import API_KEY, HumeStub
from tests.coach.meetings import HOST_META, Meeting, build
from tests.coach.speech import espeak, read
from tests.coach.test_profile import HOST, Recorder, run_profile
from tests.conftest import make_settings

PRE_ROLL = 0.3
LINES = {  # participant -> (start on the session clock, what they say)
    "bruno": [(5.0, "Eu tenho uma pergunta sobre o cronograma do projeto."), (12.0, "Quando vamos receber?")],
    "eva": [(20.0, "Eu acho que devemos conversar com o fornecedor.")],
}


@pytest.fixture
async def stub() -> AsyncIterator[HumeStub]:
    s = HumeStub()
    await s.start()
    yield s
    await s.stop()


def ended(start: float, text: str) -> SpeechEnded:
    """An utterance as the audio chain ends it: real speech with the chain's pre-roll in front."""
    speech = read(espeak(text))
    audio = np.concatenate([np.zeros(int(PRE_ROLL * 16000), dtype=np.int16), speech])
    end = start + len(speech) / 16000
    return SpeechEnded(start, end, end + 0.5, "pause", audio, start - PRE_ROLL)


def hume(stub: HumeStub, **kw: float) -> HumeWithLocalFallback:
    return HumeWithLocalFallback(HumeProsody(api_key=API_KEY, url=stub.url, backoff=0.001, max_backoff=0.01, **kw))  # type: ignore[arg-type]


async def coach_with(provider: HumeWithLocalFallback) -> tuple[CoachRunner, Collected]:
    out = Collected.empty()
    runner = CoachRunner(MeetingCoach("RM_fallback"), out, prosody=provider)
    runner.join("ana", metadata=HOST_META)
    for who in LINES:
        runner.join(who)
    return runner, out


async def speak_all(runner: CoachRunner) -> list[tuple[str, float]]:
    """Every line in order, letting the Hume streams work between them; (who, start) of each."""
    said = sorted((start, who, text) for who, lines in LINES.items() for start, text in lines)
    for start, who, text in said:
        runner.on_event(who, ended(start, text))
        await asyncio.sleep(0.05)
    await runner.aclose()
    return [(who, start) for start, who, _ in said]


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_key_measures_the_whole_meeting_locally(stub: HumeStub, status: int) -> None:
    stub.refuse_status = status
    runner, out = await coach_with(hume(stub))

    said = await speak_all(runner)

    # Every utterance measured, all locally (the one Hume refused included); never Hume, never the host.
    assert sorted((r.participant_id, r.utterance_start) for r in out.results) == sorted(said)
    assert {r.provider for r in out.results} == {"local"}
    assert stub.handshakes[101] == 0 and 1 <= stub.handshakes[status] <= len(LINES)  # one try per stream at most
    [started, fell_back] = out.statuses
    assert started == ProsodyStatus("hume", "hume")
    assert (fell_back.requested, fell_back.provider, fell_back.fallback) == ("hume", "local", "hume_refused")
    assert fell_back.detail == f"key refused: HTTP {status}" and fell_back.at is not None


@pytest.mark.parametrize(("status", "reason"), [(503, "hume_failed"), (401, "hume_refused")])
async def test_hume_failing_mid_meeting_switches_the_rest_to_local(stub: HumeStub, status: int, reason: str) -> None:
    """Bruno's first utterance is measured by Hume; the connection then drops in his second and Hume
    stays down (503) or now refuses the key (401): that utterance and every later one are measured locally."""
    first = ended(*LINES["bruno"][0])
    first_ms = len(first.audio) / 16 + 300  # with the silent tail
    stub.fail_after_frames, stub.fail_status = int(first_ms // 100) + 1 + 5, status  # 100 ms frames
    provider = hume(stub, max_attempts=3)
    runner, out = await coach_with(provider)
    runner.on_event("bruno", first)
    while not stub.sessions or stub.sessions[0].audio_ms < first_ms - 1:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # Hume paces at real time: about 4 s
    assert [r.provider for r in out.results] == ["hume"]  # its 3 s window
    for who, (start, text) in (("bruno", LINES["bruno"][1]), ("eva", LINES["eva"][0])):
        runner.on_event(who, ended(start, text))
    await runner.aclose()

    by_provider = {(r.participant_id, r.utterance_start): r.provider for r in out.results}
    assert by_provider == {("bruno", 5.0): "hume", ("bruno", 12.0): "local", ("eva", 20.0): "local"}
    assert stub.sessions[0].closed_reason == "dropped"
    [_, fell_back] = out.statuses
    assert (fell_back.provider, fell_back.fallback) == ("local", reason)
    assert f"HTTP {status}" in (fell_back.detail or "")
    assert provider.fell_back and provider.status() is fell_back

    # A participant joining after the switch is measured locally at once: nobody connects to Hume again.
    handshakes = sum(stub.handshakes.values())
    late = CoachRunner(MeetingCoach("RM_fallback"), out, prosody=provider)
    late.join("fabio")
    late.on_event("fabio", ended(30.0, "Concordo, vamos marcar uma conversa."))
    await late.aclose()
    assert out.results[-1].participant_id == "fabio" and out.results[-1].provider == "local"
    assert sum(stub.handshakes.values()) == handshakes


@pytest.fixture(scope="module")
def short_meeting(tmp_path_factory: pytest.TempPathFactory) -> Meeting:
    """A later, short meeting: one guest, one sentence (Hume paces at real time)."""
    plan = {"bruno": [(0.5, "Bom dia a todos, vamos começar.", "pt-br+m3", -22.0)]}
    return build(plan, 3.5, tmp_path_factory.mktemp("short"))


def meeting_context(settings: object, pool: asyncpg.Pool, org: Org, meeting_id: str) -> ProfileContext:
    org_id = uuid.UUID(org.org_id)
    session = SessionInfo(meeting_id, f"{meeting_id}-room", org_id, "Meet", datetime(2026, 12, 4, 9, 0, tzinfo=UTC))

    async def resolve(credential: str) -> str:  # what the worker hands the profile (agents/worker.py)
        return await resolve_credential(pool, org_id, credential, settings=settings)  # type: ignore[arg-type]

    return ProfileContext(session, settings, Recorder(), pool, resolve)  # type: ignore[arg-type]


async def test_a_meeting_whose_key_is_refused_records_the_fallback_and_the_next_one_tries_hume_again(
    live_meeting: Meeting,
    short_meeting: Meeting,
    client: httpx.AsyncClient,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
) -> None:
    org = await register(client, "Hume Sem Acesso")
    assert (await client.put("/credentials/hume", json={"secret": API_KEY}, headers=org.headers)).is_success
    stub = HumeStub(refuse_status=403)  # the key has no access to the limited-release API
    await stub.start()
    settings = make_settings(database_url=database_url, hume_realtime_url=stub.url, coach_silence_seconds=300.0)

    async def fallen_back(profile: MeetingCoachProfile) -> None:
        # 16 s in, Bruno's utterance (6.9-13.5 s) is queued for Hume; let its stream meet the refusal.
        assert profile.prosody is not None
        while profile.prosody.status().provider != "local":  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    try:
        ctx = meeting_context(settings, db_pool, org, "RM_refused")
        first = await run_profile(live_meeting, ctx, {"ana": HOST}, pause=(16.0, fallen_back))
        stub.refuse_status = None  # access granted before the next meeting
        later = await run_profile(short_meeting, meeting_context(settings, db_pool, org, "RM_later"), {})
    finally:
        await stub.stop()

    assert first.prosody_name == "hume"
    assert first.summary()["prosody_fallback"] == {
        "to": "local",
        "reason": "hume_refused",
        "detail": "key refused: HTTP 403",
    }
    org_id = uuid.UUID(org.org_id)
    async with tenant_connection(db_pool, org_id) as conn:
        statuses = await conn.fetch(
            "SELECT meeting_id, requested, provider, fallback, detail FROM prosody_status ORDER BY at, id"
        )
        events = await conn.fetch(
            "SELECT type, prosody_provider, prosody_fallback FROM feedback_events WHERE meeting_id = 'RM_refused'"
        )
        results = await conn.fetch("SELECT meeting_id, participant_id, provider FROM prosody_results")
    assert [tuple(r) for r in statuses] == [
        ("RM_refused", "hume", "hume", None, None),
        ("RM_refused", "hume", "local", "hume_refused", "key refused: HTTP 403"),
        ("RM_later", "hume", "hume", None, None),
    ]
    # Each event is stored with the measure in effect when the coach produced it: Bruno's low volume at
    # the end of his utterance (14 s, before Hume was even asked), the overlap after the switch (18 s).
    assert {tuple(r) for r in events} == {
        ("volume_baixo", "hume", None),
        ("overlap_fala", "local", "hume_refused"),
    }
    refused = [r for r in results if r["meeting_id"] == "RM_refused"]
    assert refused and {r["provider"] for r in refused} == {"local"}
    assert {r["participant_id"] for r in refused} == {"bruno", "eva", "fabio"}  # Bruno's first one included

    # The later meeting used Hume again.
    assert later.summary().get("prosody_fallback") is None and stub.handshakes[101] >= 1
    assert {r["provider"] for r in results if r["meeting_id"] == "RM_later"} == {"hume"}

    debug = (await client.get("/feedback/debug/RM_refused", headers=org.headers)).json()
    assert debug["prosody"]["requested"] == "hume" and debug["prosody"]["provider"] == "local"
    assert debug["prosody"]["fallback"] == "hume_refused" and debug["prosody"]["detail"] == "key refused: HTTP 403"
    assert datetime.fromisoformat(debug["prosody"]["since"]).tzinfo is not None
    metrics = (await client.get("/feedback/metrics/RM_refused", headers=org.headers)).json()
    assert metrics["prosody"]["fallback"] == "hume_refused"
    assert metrics["prosody"]["results"] == {"local": len(refused)}
    assert metrics["prosody"]["events"] == {"hume": 1, "local": 1} and metrics["total"] == 2
    again = (await client.get("/feedback/debug/RM_later", headers=org.headers)).json()["prosody"]
    assert (again["provider"], again["fallback"]) == ("hume", None)
    later_metrics = (await client.get("/feedback/metrics/RM_later", headers=org.headers)).json()["prosody"]
    assert set(later_metrics["results"]) == {"hume"}

    # Another organization sees none of it (the meeting answers 404 as before).
    other = await register(client, "Outra")
    assert (await client.get("/feedback/debug/RM_refused", headers=other.headers)).status_code == 404
    async with tenant_connection(db_pool, uuid.UUID(other.org_id)) as conn:
        assert await conn.fetchval("SELECT count(*) FROM prosody_status") == 0


async def test_without_hume_the_debug_view_says_local(
    live_meeting: Meeting, client: httpx.AsyncClient, db_pool: asyncpg.Pool, database_url: str
) -> None:
    """An organization without a `hume` key on a platform configured for Hume: local from the start."""
    org = await register(client, "Sem Hume")
    settings = make_settings(database_url=database_url, coach_prosody_provider="hume", coach_silence_seconds=300.0)
    ctx = meeting_context(settings, db_pool, org, "RM_nokey")
    profile = await run_profile(live_meeting, ctx, {"ana": HOST})
    assert profile.summary()["prosody_fallback"]["reason"] == "no_hume_credential"
    debug = (await client.get("/feedback/debug/RM_nokey", headers=org.headers)).json()
    assert {k: debug["prosody"][k] for k in ("requested", "provider", "fallback")} == {
        "requested": "hume",
        "provider": "local",
        "fallback": "no_hume_credential",
    }
