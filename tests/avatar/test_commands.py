"""What the session commands do to a running conversation (no room): interrupt, pause and resume listening.

The visitor speaks real speech (espeak-ng) into a `Microphone`; the avatar hears it through the
organization's speech-to-text chain as the job builds it (`livekit_fallback` over Escuta's providers,
here OpenAI's against the stub) and answers through the OpenAI stub.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from livekit.agents import AgentSession
from livekit.agents.vad import VAD
from livekit.agents.voice.run_result import RunResult
from livekit.plugins import openai, silero

from agents.avatar.commands import SessionCommands
from agents.avatar.conversation import AvatarAgent, AvatarConfig
from agents.profiles.base import Speaker
from stt import build_providers, livekit_fallback
from tests.avatar.microphone import listen_with, wait_until
from tests.avatar.openai_stub import OpenAIStub
from tests.stt_stubs.fixtures import stub_resolver, stub_settings
from tests.stt_stubs.server import SttStubServer
from tests.transcription.speech import SCRIPT_EN, Int16, espeak

CONFIG = AvatarConfig(
    "0f3b7c5e-1a2b-4c3d-8e9f-0123456789ab", "Você é a Lia, atendente da Padaria Sol.", "pt-BR", "openai", "coral"
)
VISITOR = Speaker("visitor-1", None)
LONG_REPLY = "Era uma vez uma padaria que abria antes do sol nascer e fechava depois da lua. " * 6


@pytest.fixture
async def llm_stub() -> AsyncIterator[OpenAIStub]:
    stub = OpenAIStub(replies={"história": LONG_REPLY}, default="Bom dia! Posso ajudar?", chunk_delay=0.05)
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture(scope="module")
def vad() -> VAD:
    return silero.VAD.load()


@pytest.fixture(scope="module")
def speech() -> Int16:
    return espeak(SCRIPT_EN[0], wpm=160)


def make_llm(stub: OpenAIStub) -> openai.LLM:
    return openai.LLM(model="stub-model", base_url=stub.base_url, api_key="sk-org-a-openai")


def never_ends(reason: str) -> None:
    raise AssertionError(f"the session was ended: {reason}")


async def test_interrupt_stops_the_reply_being_spoken(llm_stub: OpenAIStub) -> None:
    async with AgentSession(llm=make_llm(llm_stub)) as session:
        await session.start(AvatarAgent(CONFIG))
        commands = SessionCommands(session, never_ends)
        speech = session.generate_reply(user_input="Conte uma história da padaria")
        await wait_until(lambda: bool(llm_stub.chat_requests) and session.current_speech is speech)
        assert not speech.done()  # the long reply is still streaming
        answer = await commands.methods()["avatar.interrupt"](VISITOR, "{}")
        assert json.loads(answer) == {"ok": True}
        await wait_until(speech.done, within=5)
        assert speech.interrupted and session.current_speech is None
        said = [i.text_content or "" for i in session.history.items if i.type == "message" and i.role == "assistant"]
        assert all(len(text) < len(LONG_REPLY.strip()) for text in said)  # cut short, never the whole story
        # Interrupting with nothing being said is harmless, and the conversation goes on.
        assert json.loads(await commands.methods()["avatar.interrupt"](VISITOR, "")) == {"ok": True}
        result: RunResult[None] = await session.run(user_input="bom dia")
        result.expect.next_event().is_message(role="assistant")


async def test_pause_stops_hearing_the_visitor_and_resume_hears_again(
    llm_stub: OpenAIStub, stt_stub: SttStubServer, vad: VAD, speech: Int16
) -> None:
    settings = stub_settings(stt_stub, stt_providers=["openai"])
    providers = await build_providers(settings, None, stub_resolver(stt_stub))
    session: AgentSession[Any] = AgentSession(
        stt=livekit_fallback(providers, vad=vad, attempt_timeout=2.0), llm=make_llm(llm_stub), vad=vad
    )
    mic, heard = listen_with(session)

    def answers() -> int:
        return sum(1 for i in session.history.items if i.type == "message" and i.role == "assistant")

    async with session:
        await session.start(AvatarAgent(CONFIG))
        m = SessionCommands(session, never_ends).methods()
        mic.say(speech)
        await wait_until(lambda: len(heard) == 1 and answers() == 1)
        assert heard[0].startswith("openai heard") and len(stt_stub.calls) == 1

        assert json.loads(await m["avatar.pause_listening"](VISITOR, "{}")) == {"ok": True, "listening": False}
        assert session.input.audio_enabled is False and mic.attached is False
        delivered = mic.delivered
        mic.say(speech)
        assert mic.delivered == delivered and mic.dropped > 0  # the room input drops what it is not to hear
        assert len(heard) == 1 and len(stt_stub.calls) == 1 and answers() == 1  # not transcribed, not answered
        # Typed text is still answered while the microphone is paused.
        result: RunResult[None] = await session.run(user_input="bom dia")
        result.expect.next_event().is_message(role="assistant")

        assert json.loads(await m["avatar.resume_listening"](VISITOR, "{}")) == {"ok": True, "listening": True}
        assert session.input.audio_enabled is True and mic.attached is True
        mic.say(speech)
        await wait_until(lambda: len(heard) == 2 and answers() == 3)
        assert len(stt_stub.calls) == 2
