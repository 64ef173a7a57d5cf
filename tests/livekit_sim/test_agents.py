"""A real livekit-agents AgentServer registers with the test server and is dispatched to rooms."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from livekit import api, rtc
from livekit.agents import AgentServer, JobContext, JobRequest

from tests.e2e import until

from .agent_app import REPLY_TOPIC
from .client import Tone, on_text
from .fixtures import LiveKitServer
from .workers import agent_worker, running_agent_worker

pytestmark = pytest.mark.livekit

NAMED = "sim-echo"
NAMED_LOAD = 0.9  # the load the named worker reports (it never reports FULL)


@pytest.fixture(scope="module")
def worker_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("agent_workers")


@pytest.fixture(scope="module")
def named_worker(livekit_server: LiveKitServer, worker_logs: Path) -> Iterator[None]:
    env = {"SIM_LOAD": str(NAMED_LOAD)}
    with agent_worker(livekit_server, worker_logs / "named.log", agent_name=NAMED, env=env):
        yield


async def join_and_listen(
    server: LiveKitServer, identity: str, room: str, frequency: float, **token_kwargs: Any
) -> tuple[rtc.Room, Tone, asyncio.Queue[dict[str, Any]]]:
    """Join, publish a tone, and collect the agent's `sim.agent` text replies."""
    replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    r = rtc.Room()
    on_text(r, REPLY_TOPIC, lambda _sender, text: replies.put_nowait(json.loads(text)))
    await r.connect(server.url, server.token(identity, room, **token_kwargs))
    tone = Tone(frequency)
    await tone.publish(r)
    return r, tone, replies


def agent_identities(room: rtc.Room) -> list[str]:
    return [
        p.identity for p in room.remote_participants.values() if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
    ]


async def test_token_dispatch_agent_hears_participant_and_replies(
    livekit_server: LiveKitServer, named_worker: None
) -> None:
    name = livekit_server.room_name("token-dispatch")
    dispatch_in_token = api.RoomAgentDispatch(agent_name=NAMED, metadata='{"via":"token"}')
    room, tone, replies = await join_and_listen(livekit_server, "ana", name, 523.0, agents=[dispatch_in_token])
    try:
        reply = await asyncio.wait_for(replies.get(), 40)
        assert (reply["heard"], reply["agent_name"], reply["metadata"]) == ("ana", NAMED, '{"via":"token"}')
        assert abs(reply["frequency"] - 523) <= 5, reply
        assert len(agent_identities(room)) == 1
        async with livekit_server.api() as lk:
            (dispatch,) = await lk.agent_dispatch.list_dispatch(name)
        assert dispatch.agent_name == NAMED and len(dispatch.state.jobs) == 1
    finally:
        await tone.aclose()
        await room.disconnect()


async def test_create_dispatch_sends_the_named_agent(livekit_server: LiveKitServer, named_worker: None) -> None:
    name = livekit_server.room_name("api-dispatch")
    room, tone, replies = await join_and_listen(livekit_server, "bia", name, 660.0)
    try:
        await asyncio.sleep(0.5)
        assert agent_identities(room) == []  # a named agent is never dispatched automatically
        async with livekit_server.api() as lk:
            d = await lk.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(agent_name=NAMED, room=name, metadata='{"mode":"test"}')
            )
        assert d.id.startswith("AD_") and d.room == name
        reply = await asyncio.wait_for(replies.get(), 40)
        assert (reply["heard"], reply["metadata"]) == ("bia", '{"mode":"test"}')
        assert abs(reply["frequency"] - 660) <= 5, reply
    finally:
        await tone.aclose()
        await room.disconnect()


async def test_automatic_dispatch_without_agent_name(livekit_server: LiveKitServer, worker_logs: Path) -> None:
    # Started here, not as a fixture: an automatic worker is dispatched to every new room.
    async with running_agent_worker(livekit_server, worker_logs / "auto.log", agent_name=""):
        name = livekit_server.room_name("auto-dispatch")
        room, tone, replies = await join_and_listen(livekit_server, "caio", name, 440.0)
        try:
            reply = await asyncio.wait_for(replies.get(), 40)
            assert (reply["heard"], reply["agent_name"]) == ("caio", "")
        finally:
            await tone.aclose()
            await room.disconnect()


async def _never_run(ctx: JobContext) -> None:
    raise AssertionError("a FULL worker got a job")


@contextlib.asynccontextmanager
async def in_process_worker(
    server: LiveKitServer,
    agent_name: str,
    load: Callable[[], float],
    on_request: Callable[[JobRequest], Awaitable[None]] | None = None,
) -> AsyncIterator[asyncio.Task[None]]:
    """A real livekit-agents AgentServer run in this process, reporting FULL at load >= 0.5; yields its task.

    In this process rather than a subprocess: it never runs a job (no job process either), and this
    spares the seconds a worker process takes to import livekit-agents on a busy CI box. AgentServer.run()
    exports LIVEKIT_URL/API_KEY/API_SECRET (and more) into os.environ for its job processes: here that
    would leak into every later test's Settings, so the environment is put back afterwards.
    """
    worker = AgentServer(
        load_fnc=load,
        load_threshold=0.5,
        num_idle_processes=0,
        port=0,
        host="127.0.0.1",
        ws_url=server.url,
        api_key=server.api_key,
        api_secret=server.api_secret,
    )
    worker.rtc_session(agent_name=agent_name, on_request=on_request)(_never_run)
    saved = dict(os.environ)
    running = asyncio.create_task(worker.run())
    try:
        yield running
    finally:
        await worker.aclose()
        await running
        os.environ.clear()
        os.environ.update(saved)


async def test_full_worker_is_skipped_and_job_status_is_recorded(
    livekit_server: LiveKitServer, named_worker: None, worker_logs: Path
) -> None:
    # A second worker for the named agent that reports load 0.5 at a 0.5 threshold, so it says FULL,
    # while the named worker reports the higher load 0.9 but has no threshold, so it stays AVAILABLE.
    # Picking by load alone would choose the full one: only its reported status keeps jobs away.
    async with in_process_worker(livekit_server, NAMED, lambda: 0.5) as running:
        # Both workers' status and load reports reach the server.
        deadline = time.monotonic() + 20
        while True:
            workers = [w for w in livekit_server.state()["workers"] if w["agent_name"] == NAMED]
            reports = sorted((w["status"], round(w["load"], 3)) for w in workers)  # load is a float32
            if reports == [("WS_AVAILABLE", NAMED_LOAD), ("WS_FULL", 0.5)]:
                break
            assert not running.done(), running
            assert time.monotonic() < deadline, f"worker reports never arrived: {workers}"
            await asyncio.sleep(0.1)
        full = next(w["id"] for w in workers if w["status"] == "WS_FULL")
        available = next(w["id"] for w in workers if w["status"] == "WS_AVAILABLE")

        name = livekit_server.room_name("load")
        # "then": "shutdown" makes the agent end its job after replying (agent_app.py).
        dispatch = api.RoomAgentDispatch(agent_name=NAMED, metadata='{"then":"shutdown"}')
        room, tone, replies = await join_and_listen(livekit_server, "davi", name, 587.0, agents=[dispatch])
        try:
            reply = await asyncio.wait_for(replies.get(), 40)
            assert reply["heard"] == "davi" and abs(reply["frequency"] - 587) <= 5, reply
            offered = {w["id"]: w["offered"] for w in livekit_server.state()["workers"]}
            assert offered[full] == [] and reply["job_id"] in offered[available], offered

            # Job status updates: RUNNING once the job process got it (started_at), then SUCCESS when
            # the job ended by itself, both visible in ListDispatch.
            async with livekit_server.api() as lk:
                deadline = time.monotonic() + 15
                while True:
                    (d,) = await lk.agent_dispatch.list_dispatch(name)
                    (job,) = d.state.jobs
                    if job.state.status in (api.JobStatus.JS_SUCCESS, api.JobStatus.JS_FAILED):
                        break
                    assert time.monotonic() < deadline, f"job never finished: {job}"
                    await asyncio.sleep(0.1)
            assert job.id == reply["job_id"] and job.state.worker_id == available
            assert job.state.status == api.JobStatus.JS_SUCCESS, job
            assert 0 < job.state.started_at <= job.state.ended_at, job
            assert job.state.participant_identity and not job.state.error, job
        finally:
            await tone.aclose()
            await room.disconnect()


async def test_a_dispatch_waits_for_a_full_worker_to_free_up(livekit_server: LiveKitServer) -> None:
    # The only worker for this agent reports FULL: a dispatch is not offered to it, and is offered as soon
    # as the worker reports itself AVAILABLE again (it declines the job here: no job process is needed).
    name = f"escuta-sim-busy-{secrets.token_hex(3)}"
    load = {"now": 0.9}
    offered: list[str] = []

    async def decline(request: JobRequest) -> None:
        offered.append(request.id)
        await request.reject()

    async with in_process_worker(livekit_server, name, lambda: load["now"], on_request=decline) as running:

        def status() -> str | None:
            return next((w["status"] for w in livekit_server.state()["workers"] if w["agent_name"] == name), None)

        await _until(lambda: status() == "WS_FULL", "the worker to report FULL", running)
        room = livekit_server.room_name("busy")
        async with livekit_server.api() as lk:
            await lk.room.create_room(api.CreateRoomRequest(name=room, empty_timeout=30))
            await lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(agent_name=name, room=room))
        await asyncio.sleep(1.0)
        assert offered == [] and status() == "WS_FULL"

        load["now"] = 0.0
        await _until(lambda: bool(offered), "the job to be offered once the worker is available", running)
        assert status() == "WS_AVAILABLE" and len(offered) == 1


async def _until(check: Callable[[], bool], what: str, running: asyncio.Task[None], within: float = 20) -> None:
    """`until`, failing at once if the in-process worker has stopped."""

    def alive_and() -> bool:
        assert not running.done(), running
        return check()

    await until(alive_and, within, what)
