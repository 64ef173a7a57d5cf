"""A normal end records what the session used, from livekit-agents' own usage counters.

The visitor speaks real speech into the session; the avatar's speech-to-text chain (`livekit_fallback`
over Escuta's providers, OpenAI's against the stub) reports its audio through livekit-agents' STT metrics,
and the job's recorder stores it as `stt_seconds`, with the LLM's tokens, in `avatar_usage` and the ledger.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from livekit.agents import AgentSession
from livekit.agents.metrics.usage import STTModelUsage
from livekit.plugins import openai, silero

from agents.avatar.conversation import AvatarAgent, AvatarConfig
from agents.avatar.prepare import record_session_usage
from agents.profiles.base import SessionInfo
from core.settings import Settings
from db.tenancy import tenant_connection
from stt import build_providers, livekit_fallback
from tests.accounts.helpers import register
from tests.avatar.microphone import listen_with, wait_until
from tests.avatar.openai_stub import OpenAIStub
from tests.stt_stubs.fixtures import stub_resolver, stub_settings
from tests.stt_stubs.server import SttStubServer
from tests.transcription.speech import SCRIPT_EN, SR, espeak

CONFIG = AvatarConfig(
    "0f3b7c5e-1a2b-4c3d-8e9f-0123456789ab", "Você é a Lia, atendente da Padaria Sol.", "pt-BR", "openai", "coral"
)


async def test_normal_end_records_speech_to_text_seconds(
    client: httpx.AsyncClient,
    db_pool: asyncpg.Pool,
    admin_headers: dict[str, str],
    settings: Settings,
    stt_stub: SttStubServer,
) -> None:
    org = await register(client)
    await client.post("/credits/grants", json={"orgId": org.org_id, "amount": "10"}, headers=admin_headers)
    org_id = uuid.UUID(org.org_id)
    llm_stub = OpenAIStub(default="Bom dia! Posso ajudar?")
    await llm_stub.start()
    stt_settings = stub_settings(stt_stub, stt_providers=["openai"])
    providers = await build_providers(stt_settings, org_id, stub_resolver(stt_stub))
    vad = silero.VAD.load()
    session: AgentSession[Any] = AgentSession(
        stt=livekit_fallback(providers, vad=vad, attempt_timeout=2.0),
        llm=openai.LLM(model="stub-model", base_url=llm_stub.base_url, api_key="sk-org-a-openai"),
        vad=vad,
    )
    mic, heard = listen_with(session)
    started_at = datetime.now(UTC)
    try:
        async with session:
            await session.start(AvatarAgent(CONFIG))
            for n, sentence in enumerate(SCRIPT_EN[:2], start=1):
                mic.say(espeak(sentence, wpm=160))
                await wait_until(lambda: len(heard) == n and len(llm_stub.chat_requests) == n)  # noqa: B023
    finally:
        await llm_stub.stop()
    # The session is closed: the job's shutdown callback records it now.
    info = SessionInfo("RM_avatar_usage", "avatar-room", org_id, "avatar", started_at)
    usage = await record_session_usage(
        settings, db_pool, info, org_id, session, started_at=started_at, avatar_seconds=42.0
    )

    stub_seconds = sum(c.audio_seconds for c in stt_stub.calls)  # what the provider was sent
    spoken = sum(len(espeak(s, wpm=160)) for s in SCRIPT_EN[:2]) / SR
    assert len(stt_stub.calls) == 2 and spoken <= stub_seconds < spoken + 2.0
    stt = [u for u in session.usage.model_usage if isinstance(u, STTModelUsage)]
    assert stt and abs(sum(u.audio_duration for u in stt) - stub_seconds) < 0.05
    assert abs(usage.stt_seconds - stub_seconds) < 0.05 and usage.llm_tokens > 0 and usage.avatar_seconds == 42.0

    async with tenant_connection(db_pool, org_id) as conn:
        row = await conn.fetchrow("SELECT * FROM avatar_usage WHERE meeting_id = 'RM_avatar_usage'")
        charged = await conn.fetchval(
            "SELECT amount FROM credit_ledger WHERE meeting_id = 'RM_avatar_usage' AND kind = 'consumption'"
        )
    assert row is not None and row["source"] == "agent"
    assert abs(row["stt_seconds"] - stub_seconds) < 0.05 and row["llm_tokens"] == usage.llm_tokens
    assert charged == -usage.credits(settings) and row["credits"] == usage.credits(settings)
    body = (await client.get("/credits", headers=org.headers)).json()
    [recorded] = [s for s in body["usageBySession"] if s["meetingId"] == "RM_avatar_usage"]
    assert abs(recorded["sttSeconds"] - stub_seconds) < 0.05
