"""The worker's job entrypoint: dispatch metadata chooses the profile; a job that cannot run ends
cleanly, before joining, with one clear log line."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from livekit import rtc
from livekit.agents import AutoSubscribe
from livekit.protocol import agent, models

from agents.worker import JobRefused, entrypoint, parse_dispatch
from core.settings import Settings
from db.accounts import create_org
from db.credentials import put_credential
from db.tenancy import tenant_connection
from tests.conftest import make_settings


class StandInJobContext:
    """The slice of `JobContext` the entrypoint uses, recording what it was asked to do."""

    def __init__(self, metadata: str, settings: Settings) -> None:
        self.job = agent.Job(
            id="AJ_test", metadata=metadata, room=models.Room(sid="RM_test", name="room-1", creation_time=1_763_712_000)
        )
        self.proc = type("Proc", (), {"userdata": {"settings": settings}})()
        self.room = rtc.Room()
        self.shutdown_reasons: list[str] = []
        self.connected_with: list[AutoSubscribe] = []
        self.callbacks: list[Callable[[str], Awaitable[None]]] = []

    def shutdown(self, reason: str = "") -> None:
        self.shutdown_reasons.append(reason)

    async def connect(self, *, auto_subscribe: AutoSubscribe) -> None:
        self.connected_with.append(auto_subscribe)

    def add_shutdown_callback(self, cb: Callable[[str], Awaitable[None]]) -> None:
        self.callbacks.append(cb)


async def run_job(metadata: dict[str, Any] | str, settings: Settings) -> StandInJobContext:
    ctx = StandInJobContext(metadata if isinstance(metadata, str) else json.dumps(metadata), settings)
    await entrypoint(ctx)  # type: ignore[arg-type]
    return ctx


def test_dispatch_metadata_is_parsed() -> None:
    org = uuid.uuid4()
    d = parse_dispatch(json.dumps({"profile": "transcription", "org_id": str(org), "solution": "AiHelper"}))
    assert (d.profile, d.org_id, d.solution) == ("transcription", org, "AiHelper")
    for bad in ("", "not json", "[]", '{"org_id": "x"}', '{"profile": "transcription", "org_id": "nope"}'):
        with pytest.raises(JobRefused):
            parse_dispatch(bad)


async def test_unknown_profile_ends_the_job_before_joining(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="escuta.worker")
    ctx = await run_job({"profile": "karaoke", "org_id": str(uuid.uuid4())}, make_settings())
    assert ctx.connected_with == [] and ctx.shutdown_reasons == ["unknown profile 'karaoke'"]
    [line] = [r.getMessage() for r in caplog.records if r.name == "escuta.worker"]
    assert line == "job AJ_test ends without joining room RM_test: unknown profile 'karaoke'"


async def test_missing_metadata_ends_the_job(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="escuta.worker")
    ctx = await run_job("", make_settings())
    assert ctx.connected_with == [] and ctx.shutdown_reasons == ["dispatch metadata names no profile"]


async def test_missing_credential_ends_the_job_before_joining(
    caplog: pytest.LogCaptureFixture, db_pool: asyncpg.Pool, database_url: str
) -> None:
    caplog.set_level(logging.ERROR, logger="escuta.worker")
    org = uuid.uuid4()
    async with tenant_connection(db_pool, org) as conn:
        await create_org(conn, org, "Org No Keys")
    settings = make_settings(database_url=database_url, stt_providers=["assemblyai"])
    ctx = await run_job({"profile": "transcription", "org_id": str(org), "solution": "s"}, settings)
    assert ctx.connected_with == []
    expected = f"organization {org} has no assemblyai credential, which profile 'transcription' needs"
    assert ctx.shutdown_reasons == [expected]
    assert [r.getMessage() for r in caplog.records if r.name == "escuta.worker"] == [
        f"job AJ_test ends without joining room RM_test: {expected}"
    ]


async def test_a_runnable_job_joins_audio_only_and_flushes_at_the_end(db_pool: asyncpg.Pool, database_url: str) -> None:
    org = uuid.uuid4()
    settings = make_settings(
        database_url=database_url, stt_providers=["openai"], stt_openai_base_url="http://127.0.0.1:9/v1"
    )
    async with tenant_connection(db_pool, org) as conn:
        await create_org(conn, org, "Org Keys")
        await put_credential(conn, org, "openai", "sk-test-0123456789", settings)
    ctx = await run_job({"profile": "transcription", "org_id": str(org), "solution": "s"}, settings)
    assert ctx.shutdown_reasons == [] and ctx.connected_with == [AutoSubscribe.AUDIO_ONLY]
    [finish] = ctx.callbacks
    await finish("room empty")  # nothing was heard: closes cleanly, releases the pool


async def test_an_unusable_local_model_ends_the_job(caplog: pytest.LogCaptureFixture, tmp_path: Any) -> None:
    caplog.set_level(logging.ERROR, logger="escuta.worker")
    # An English room: the broken model is the one its language picks.
    settings = make_settings(
        stt_providers=["local"], stt_local_model=str(tmp_path / "no-such-model"), stt_language="en"
    )
    ctx = await run_job({"profile": "transcription"}, settings)
    assert ctx.connected_with == []
    [reason] = ctx.shutdown_reasons
    assert reason.startswith("cannot load Whisper model")


async def test_a_language_no_provider_hears_ends_the_job_with_one_line(
    caplog: pytest.LogCaptureFixture, db_pool: asyncpg.Pool, database_url: str
) -> None:
    # A pt-BR organization whose only provider is the English-only local model: refused before joining,
    # with the language and why each provider cannot hear it (never discovered by silence).
    caplog.set_level(logging.ERROR, logger="escuta.worker")
    org = uuid.uuid4()
    async with tenant_connection(db_pool, org) as conn:
        await create_org(conn, org, "Farmácia Sol", language="pt-BR")
    settings = make_settings(database_url=database_url, stt_providers=["local"], stt_local_multilingual_model="")
    ctx = await run_job({"profile": "transcription", "org_id": str(org), "solution": "Balcao"}, settings)
    assert ctx.connected_with == []
    [reason] = ctx.shutdown_reasons
    assert reason.startswith(f"solution 'Balcao' of organization {org} speaks pt-BR, which no configured")
    assert "local (tiny.en): tiny.en is English-only" in reason
    [line] = [r.getMessage() for r in caplog.records if r.name == "escuta.worker"]
    assert line == f"job AJ_test ends without joining room RM_test: {reason}"


async def test_the_solutions_language_wins_over_the_organizations(db_pool: asyncpg.Pool, database_url: str) -> None:
    from agents.worker import Dispatch, room_language
    from db.language import set_solution_language

    org = uuid.uuid4()
    async with tenant_connection(db_pool, org) as conn:
        await create_org(conn, org, "Org Lang", language="pt-BR")
        await conn.execute("INSERT INTO solutions (org_id, name, profile) VALUES ($1, 'Meet', 'transcription')", org)
        await conn.execute("INSERT INTO solutions (org_id, name, profile) VALUES ($1, 'Intl', 'transcription')", org)
        await set_solution_language(conn, org, "Intl", "en")
    settings = make_settings(database_url=database_url, stt_language="es")
    assert await room_language(settings, db_pool, Dispatch("transcription", org, "Intl")) == "en"
    assert await room_language(settings, db_pool, Dispatch("transcription", org, "Meet")) == "pt-BR"
    assert await room_language(settings, db_pool, Dispatch("transcription", org, None)) == "pt-BR"
    # Rooms nobody minted (no organization) speak the platform's default.
    assert await room_language(settings, db_pool, Dispatch("transcription", None, None)) == "es"
    assert await room_language(settings, None, Dispatch("transcription", org, "Intl")) == "es"
