"""The avatar's conversation in livekit-agents' text mode (no room): persona, media events, usage, commands."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from livekit.agents import AgentSession
from livekit.agents.voice.run_result import RunResult
from livekit.plugins import openai

from agents.avatar.commands import SessionCommands
from agents.avatar.conversation import AvatarAgent, AvatarConfig, MediaWatcher, session_usage
from agents.profiles.base import ProfileRpcError, Speaker
from core.avatar.triggers import MEDIA_TOPIC, Trigger, TriggerMatcher
from tests.avatar.openai_stub import OpenAIStub

CONFIG = AvatarConfig(
    "0f3b7c5e-1a2b-4c3d-8e9f-0123456789ab", "Você é a Lia, atendente da Padaria Sol.", "pt-BR", "openai", "coral"
)
CAFE = Trigger("t-cafe", "café", ("promoção de café",), "image", "https://cdn.example/cafe.png", "Café", 8)
PAO = Trigger("t-pao", "pão", ("pão de queijo",), "video", "https://cdn.example/pao.mp4", "Pão", 12)
VISITOR = Speaker("visitor-1", None)


class Collector:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def publish_transcript(self, speaker: Speaker, segment_id: str, text: str) -> None:
        return None

    async def send_text(
        self, topic: str, text: str, *, to: list[str] | None = None, attributes: dict[str, str] | None = None
    ) -> None:
        self.sent.append((topic, json.loads(text)))

    def record(self, kind: str, data: dict[str, Any]) -> None:
        return None


@pytest.fixture
async def llm_stub() -> AsyncIterator[OpenAIStub]:
    stub = OpenAIStub(
        replies={"café": "Hoje temos PROMOCAO DE CAFE e pão de queijo!"}, default="Bom dia! Posso ajudar?"
    )
    await stub.start()
    yield stub
    await stub.stop()


def make_llm(stub: OpenAIStub) -> openai.LLM:
    return openai.LLM(model="stub-model", base_url=stub.base_url, api_key="sk-org-a-openai")


async def test_persona_answers_and_media_fires_once_per_cooldown(llm_stub: OpenAIStub) -> None:
    publisher = Collector()
    watcher = MediaWatcher(TriggerMatcher([CAFE, PAO], default_cooldown=600), publisher)
    async with AgentSession(llm=make_llm(llm_stub)) as session:
        watcher.attach(session)
        await session.start(AvatarAgent(CONFIG))
        result: RunResult[None] = await session.run(user_input="Oi, tem promoção de café?")
        result.expect.next_event().is_message(role="assistant")
        result.expect.no_more_events()
        await session.run(user_input="E a PROMOÇÃO DE CAFÉ vale amanhã?")  # within the cooldown: nothing new
        usage = session_usage(session, avatar_seconds=30.0)
    await watcher.drain()
    system = llm_stub.chat_requests[0]["messages"][0]
    assert "Padaria Sol" in system["content"] and "pt-BR" in system["content"]
    assert llm_stub.auth[0] == "Bearer sk-org-a-openai"
    events = [e for topic, e in publisher.sent if topic == MEDIA_TOPIC]
    # The visitor's words fire café; the agent's answer fires pão (café is cooling down); then nothing.
    assert [(e["triggerId"], e["source"]) for e in events] == [("t-cafe", "visitor"), ("t-pao", "agent")]
    assert events[1]["media"] == {
        "type": "video",
        "url": "https://cdn.example/pao.mp4",
        "title": "Pão",
        "displaySeconds": 12,
    }
    assert usage.llm_tokens > 0 and usage.avatar_seconds == 30.0 and usage.tts_characters == 0


async def test_commands_work_and_malformed_payloads_are_rpc_errors(llm_stub: OpenAIStub) -> None:
    ended: list[str] = []
    async with AgentSession(llm=make_llm(llm_stub)) as session:
        await session.start(AvatarAgent(CONFIG))
        commands = SessionCommands(session, ended.append)
        m = commands.methods()
        assert set(m) == {
            "avatar.interrupt",
            "avatar.say",
            "avatar.pause_listening",
            "avatar.resume_listening",
            "avatar.end_session",
        }
        said = json.loads(await m["avatar.say"](VISITOR, json.dumps({"text": "Bem-vindo à Padaria Sol!"})))
        assert said["ok"] is True and said["speechId"]
        assert commands.last_speech is not None
        await commands.last_speech.wait_for_playout()
        assert any(
            item.type == "message" and item.text_content == "Bem-vindo à Padaria Sol!" for item in session.history.items
        )
        assert json.loads(await m["avatar.interrupt"](VISITOR, "")) == {"ok": True}
        assert json.loads(await m["avatar.pause_listening"](VISITOR, "{}")) == {"ok": True, "listening": False}
        assert commands.listening is False
        assert json.loads(await m["avatar.resume_listening"](VISITOR, "{}")) == {"ok": True, "listening": True}
        assert commands.listening is True
        for method, payload in [
            ("avatar.say", "{not json"),
            ("avatar.say", "[]"),
            ("avatar.say", json.dumps({"text": ""})),
            ("avatar.say", json.dumps({"text": 42})),
            ("avatar.say", json.dumps({"text": "x" * 2001})),
            ("avatar.say", json.dumps({"text": "oi", "interruptible": "sim"})),
            ("avatar.interrupt", json.dumps({"now": True})),
            ("avatar.end_session", json.dumps({"reason": 7})),
        ]:
            with pytest.raises(ProfileRpcError):
                await m[method](VISITOR, payload)
        # The session survived every bad payload and still converses.
        result: RunResult[None] = await session.run(user_input="bom dia")
        result.expect.next_event().is_message(role="assistant")
        assert json.loads(await m["avatar.end_session"](VISITOR, json.dumps({"reason": "visitante saiu"}))) == {
            "ok": True,
            "ending": True,
        }
    assert ended == ["visitante saiu"]


async def test_greeting_is_said_when_the_agent_starts(llm_stub: OpenAIStub) -> None:
    config = AvatarConfig(CONFIG.avatar_id, CONFIG.instructions, "pt-BR", "openai", "coral", greeting="Olá! Sou a Lia.")
    async with AgentSession(llm=make_llm(llm_stub)) as session:
        await session.start(AvatarAgent(config))
        result: RunResult[None] = await session.run(user_input="oi")
        result.expect.next_event().is_message(role="assistant")
    said = [i.text_content for i in session.history.items if i.type == "message" and i.role == "assistant"]
    assert said[0] == "Olá! Sou a Lia." and llm_stub.chat_requests  # greeted first, then answered
