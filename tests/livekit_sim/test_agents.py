"""A real livekit-agents AgentServer registers with the test server and is dispatched to rooms."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from livekit import api, rtc

from .agent_app import REPLY_TOPIC
from .client import Tone, on_text
from .fixtures import LiveKitServer
from .workers import agent_worker, running_agent_worker

pytestmark = pytest.mark.livekit

NAMED = "sim-echo"


@pytest.fixture(scope="module")
def worker_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("agent_workers")


@pytest.fixture(scope="module")
def named_worker(livekit_server: LiveKitServer, worker_logs: Path) -> Iterator[None]:
    with agent_worker(livekit_server, worker_logs / "named.log", agent_name=NAMED):
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
