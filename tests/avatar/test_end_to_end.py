"""End to end through the LiveKit test server: a visitor joins with a `/new` token, the real `escuta
worker` starts the avatar against the LiveAvatar stub with the organization's key, answers the
visitor's text, the stub websocket receives the agent's speech as `agent.speak` audio, `media`
events and the session commands work over the room, and the session's usage is recorded.

What only the live LiveAvatar service can confirm: that it accepts this token request (the plugin's
top-level `video_quality`), joins the room as `liveavatar-avatar-agent` and publishes the avatar's
video and audio on the agent's behalf, and its real timing of `agent.speak_started/ended`. The stub
never joins the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from livekit import rtc

from core.avatar.triggers import MEDIA_TOPIC
from tests.accounts.helpers import put_solution, register
from tests.avatar.conftest import STUB_AVATAR, STUB_KEY
from tests.avatar.openai_stub import OpenAIStub
from tests.conftest import TEST_LK_PUBLIC_URL
from tests.e2e import api_on_veth, room_settings
from tests.liveavatar_stub import LiveAvatarStub
from tests.livekit_sim.fixtures import LiveKitServer
from tests.livekit_sim.workers import running_agent_worker

pytestmark = pytest.mark.livekit
OPENAI_KEY = "sk-org-e2e-openai-0123456789"


@pytest.fixture
async def llm() -> AsyncIterator[OpenAIStub]:
    stub = OpenAIStub(replies={"café": "Temos promoção de café hoje, com pão de queijo!"})
    await stub.start()
    yield stub
    await stub.stop()


@contextlib.asynccontextmanager
async def avatar_stack(
    livekit_server: LiveKitServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
    liveavatar: LiveAvatarStub,
    llm: OpenAIStub,
    **env_overrides: str,
) -> AsyncIterator[httpx.AsyncClient]:
    """The control API (receiving the server's webhooks) and the real `escuta worker`, both on the stubs."""
    agent_name = f"escuta-avatar-{secrets.token_hex(3)}"
    settings = room_settings(livekit_server, database_url, agent_name)
    env = {
        "ESCUTA_DATABASE_URL": database_url,
        "ESCUTA_AGENT_NAME": agent_name,
        "ESCUTA_STT_PROVIDERS": '["local"]',
        "ESCUTA_AVATAR_LIVEAVATAR_API_URL": liveavatar.api_url,
        "ESCUTA_LIVEKIT_PUBLIC_URL": TEST_LK_PUBLIC_URL,  # LIVEKIT_URL is the test server's private address
        "ESCUTA_AVATAR_OPENAI_BASE_URL": llm.base_url,
        "ESCUTA_AVATAR_LLM_MODEL": "stub-model",
        "ESCUTA_AVATAR_MEDIA_COOLDOWN_SECONDS": "600",
        "ESCUTA_WORKER_HTTP_PORT": "0",
        "ESCUTA_WORKER_LOAD_THRESHOLD": "1000",  # a busy 2-core box must not make it refuse the job
        "ESCUTA_WORKER_NUM_IDLE_PROCESSES": "1",
        **env_overrides,
    }
    argv = [sys.executable, "-m", "escuta.cli", "worker"]
    log = tmp_path / "worker.log"
    async with (
        api_on_veth(livekit_server, settings, db_pool) as base,
        httpx.AsyncClient(base_url=base) as http,
        running_agent_worker(livekit_server, log, agent_name=agent_name, argv=argv, env=env),
    ):
        livekit_server.set_webhook_urls([f"{base}/livekit/webhook"])
        yield http


class Visitor:
    """A frontend in the room: collects text-stream events by topic and the agent's attributes."""

    def __init__(self, room: rtc.Room) -> None:
        self.room = room
        self.events: dict[str, list[dict[str, object]]] = {}
        self.changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        for topic in (MEDIA_TOPIC, "escuta.avatar.status"):
            room.register_text_stream_handler(topic, self._handler(topic))
        room.on("participant_attributes_changed", lambda *_: self._poke())

    def _handler(self, topic: str) -> Callable[[rtc.TextStreamReader, str], None]:
        async def read(reader: rtc.TextStreamReader) -> None:
            self.events.setdefault(topic, []).append(json.loads(await reader.read_all()))
            await self._notify()

        def on_stream(reader: rtc.TextStreamReader, sender: str) -> None:
            task = asyncio.ensure_future(read(reader))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return on_stream

    def _poke(self) -> None:
        task = asyncio.ensure_future(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def agent(self) -> rtc.RemoteParticipant | None:
        for p in self.room.remote_participants.values():
            if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
                return p
        return None

    async def wait(self, predicate: Callable[[], bool]) -> None:
        async with self.changed:
            await self.changed.wait_for(predicate)


async def test_avatar_session_end_to_end(
    livekit_server: LiveKitServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
    liveavatar: LiveAvatarStub,
    llm: OpenAIStub,
    admin_headers: dict[str, str],
) -> None:
    async with avatar_stack(livekit_server, db_pool, database_url, tmp_path, liveavatar, llm) as http:
        org = await register(http, "Padaria Sol")
        for provider, secret in (("liveavatar", STUB_KEY), ("openai", OPENAI_KEY)):
            assert (await http.put(f"/credentials/{provider}", json={"secret": secret}, headers=org.headers)).is_success
        config = {
            "avatarId": STUB_AVATAR,
            "instructions": "Você é a Lia.",
            "voice": {"ttsProvider": "openai", "voiceId": "coral"},
        }
        assert (await http.put("/avatar/config", json=config, headers=org.headers)).status_code == 200
        trigger = {
            "name": "café",
            "phrases": ["promoção de café"],
            "media": {"type": "image", "url": "https://cdn.example/cafe.png", "title": "Café"},
        }
        assert (await http.post("/avatar/triggers", json=trigger, headers=org.headers)).status_code == 201
        await put_solution(http, org, "Lia", "avatar")
        await http.post("/credits/grants", json={"orgId": org.org_id, "amount": "100"}, headers=admin_headers)

        minted = (await http.get("/new", params={"userId": "visitante"}, headers=org.headers)).json()
        room = rtc.Room()
        visitor = Visitor(room)
        await room.connect(livekit_server.url, minted["token"])
        try:
            # The avatar session was started with this organization's key and avatar id.
            await liveavatar.wait_for(lambda s: any(x.connected.is_set() for x in s.sessions.values()))
            [avatar] = liveavatar.sessions.values()
            assert avatar.api_key == STUB_KEY and avatar.avatar_id == STUB_AVATAR
            assert avatar.request["livekit_config"]["livekit_room"] == minted["room"]
            # LiveAvatar, joining from its cloud, was handed the public URL, not the worker's own.
            assert avatar.request["livekit_config"]["livekit_url"] == TEST_LK_PUBLIC_URL == minted["url"]
            assert livekit_server.url.startswith("ws://10.") and liveavatar.unreachable_urls == []
            await visitor.wait(
                lambda: (a := visitor.agent()) is not None and a.attributes.get("escuta.avatar.status") == "ready"
            )
            agent = visitor.agent()
            assert agent is not None

            # The visitor types; the agent answers; its speech reaches the avatar as agent.speak audio.
            await room.local_participant.send_text("Oi! Tem promoção de café?", topic="lk.chat")
            await liveavatar.wait_for(lambda s: len(avatar.turns) >= 1)
            spoken = [t for t in avatar.types() if t != "session.keep_alive"]  # keep-alives come and go
            assert spoken[0] == "agent.speak" and "agent.speak_end" in spoken
            assert avatar.audio_seconds() > 1.0  # the TTS stub's tone for the whole sentence
            assert llm.auth and all(a == f"Bearer {OPENAI_KEY}" for a in llm.auth)
            await visitor.wait(lambda: len(visitor.events.get(MEDIA_TOPIC, [])) >= 1)
            [media] = visitor.events[MEDIA_TOPIC]  # visitor and agent both said it: once per cooldown
            assert media["triggerId"] and media["source"] == "visitor"

            # Session commands over RPC.
            say = json.dumps({"text": "Até logo!"})
            ok = await room.local_participant.perform_rpc(
                destination_identity=agent.identity, method="avatar.say", payload=say
            )
            assert json.loads(ok)["ok"] is True
            await liveavatar.wait_for(lambda s: len(avatar.turns) >= 2)
            with pytest.raises(rtc.RpcError) as bad:
                await room.local_participant.perform_rpc(
                    destination_identity=agent.identity, method="avatar.say", payload="{not json"
                )
            assert "JSON" in bad.value.message
            for method in ("avatar.pause_listening", "avatar.resume_listening", "avatar.interrupt"):
                answer = await room.local_participant.perform_rpc(
                    destination_identity=agent.identity, method=method, payload="{}"
                )
                assert json.loads(answer)["ok"] is True
            await room.local_participant.perform_rpc(
                destination_identity=agent.identity, method="avatar.end_session", payload="{}"
            )
            # The job ends gracefully: LiveAvatar is told to stop and the usage is charged.
            await liveavatar.wait_for(lambda s: avatar.stopped_reason is not None)
            # The job process writes it; polled (no timing asserted: pytest-timeout bounds a hang).
            query = "SELECT * FROM avatar_usage WHERE room_name = $1"
            while (row := await db_pool.fetchrow(query, minted["room"])) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            assert row["source"] == "agent" and row["llm_tokens"] > 0 and row["tts_characters"] > 0
            balance = await db_pool.fetchval("SELECT sum(amount) FROM credit_ledger WHERE org_id = $1", row["org_id"])
            assert balance == 100 - row["credits"]
        finally:
            await room.disconnect()


@pytest.mark.parametrize(
    ("b_key", "reason"), [(None, "missing_liveavatar_key"), ("la-key-revoked-000000000000", "liveavatar_refused")]
)
async def test_no_usable_liveavatar_key_tells_the_frontend_why(
    b_key: str | None,
    reason: str,
    livekit_server: LiveKitServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
    liveavatar: LiveAvatarStub,
    llm: OpenAIStub,
    admin_headers: dict[str, str],
) -> None:
    async with avatar_stack(livekit_server, db_pool, database_url, tmp_path, liveavatar, llm) as http:
        # Organization A has a LiveAvatar key; B, the one the visitor joins, has none or a refused one.
        a, b = await register(http, "A"), await register(http, "B")
        await http.put("/credentials/liveavatar", json={"secret": STUB_KEY}, headers=a.headers)
        if b_key is not None:
            await http.put("/credentials/liveavatar", json={"secret": b_key}, headers=b.headers)
        config = {"avatarId": STUB_AVATAR, "voice": {"ttsProvider": "openai", "voiceId": "coral"}}
        for org in (a, b):
            await http.put("/credentials/openai", json={"secret": OPENAI_KEY}, headers=org.headers)
            assert (await http.put("/avatar/config", json=config, headers=org.headers)).status_code == 200
            await put_solution(http, org, "Lia", "avatar")
            await http.post("/credits/grants", json={"orgId": org.org_id, "amount": "10"}, headers=admin_headers)
        if b_key is None:
            # Without a key of its own, /new refuses before minting (seed 000 via issue 15.5) ...
            refused = await http.get("/new", headers=b.headers)
            assert refused.status_code == 409 and refused.json()["error"]["code"] == "missing_liveavatar_key"
            # ... and a key deleted between minting and the agent's arrival is still caught in the room.
            await http.put("/credentials/liveavatar", json={"secret": STUB_KEY}, headers=b.headers)
            minted = (await http.get("/new", headers=b.headers)).json()
            assert (await http.delete("/credentials/liveavatar", headers=b.headers)).status_code == 200
        else:
            minted = (await http.get("/new", headers=b.headers)).json()
        room = rtc.Room()
        visitor = Visitor(room)
        await room.connect(livekit_server.url, minted["token"])
        try:

            def told() -> bool:
                agent = visitor.agent()
                status = agent.attributes.get("escuta.avatar.status") if agent else None
                return bool(visitor.events.get("escuta.avatar.status")) and status == "unavailable"

            await visitor.wait(told)  # the event and the attribute may arrive in either order
            [event] = visitor.events["escuta.avatar.status"]
            assert event["status"] == "unavailable" and event["reason"] == reason
            agent = visitor.agent()
            assert agent is not None
            assert agent.attributes["escuta.avatar.reason"] == reason
            # A's key was never tried for B (only B's own, when it has one), and nobody conversed.
            assert liveavatar.sessions == {} and llm.chat_requests == []
            assert liveavatar.rejected_keys == ([] if b_key is None else [b_key[:3] + "…"])
        finally:
            await room.disconnect()


async def test_running_out_of_credit_warns_and_ends_gracefully(
    livekit_server: LiveKitServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    tmp_path: Path,
    liveavatar: LiveAvatarStub,
    llm: OpenAIStub,
    admin_headers: dict[str, str],
) -> None:
    checks = {"ESCUTA_CREDIT_CHECK_INTERVAL_SECONDS": "0.5", "ESCUTA_CREDIT_WARNING_SECONDS": "60"}
    async with avatar_stack(livekit_server, db_pool, database_url, tmp_path, liveavatar, llm, **checks) as http:
        org = await register(http, "Padaria Sol")
        for provider, secret in (("liveavatar", STUB_KEY), ("openai", OPENAI_KEY)):
            await http.put(f"/credentials/{provider}", json={"secret": secret}, headers=org.headers)
        config = {"avatarId": STUB_AVATAR, "voice": {"ttsProvider": "openai", "voiceId": "coral"}}
        assert (await http.put("/avatar/config", json=config, headers=org.headers)).status_code == 200
        await put_solution(http, org, "Lia", "avatar")
        # Three seconds of avatar time at the default price of one credit per minute.
        await http.post("/credits/grants", json={"orgId": org.org_id, "amount": "0.05"}, headers=admin_headers)
        minted = (await http.get("/new", headers=org.headers)).json()
        room = rtc.Room()
        visitor = Visitor(room)
        await room.connect(livekit_server.url, minted["token"])
        try:

            def statuses() -> list[object]:
                return [e["status"] for e in visitor.events.get("escuta.avatar.status", [])]

            await visitor.wait(lambda: "ending" in statuses())
            assert statuses() == ["credit_low", "ending"]
            await liveavatar.wait_for(lambda s: any(x.stopped_reason for x in s.sessions.values()))
            query = "SELECT * FROM avatar_usage WHERE room_name = $1"
            while (row := await db_pool.fetchrow(query, minted["room"])) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            assert row["source"] == "agent" and row["avatar_seconds"] > 0
            # A new avatar session is now refused.
            again = await http.get("/new", headers=org.headers)
            assert (again.status_code, again.json()["error"]["code"]) == (402, "insufficient_credits")
        finally:
            await room.disconnect()
