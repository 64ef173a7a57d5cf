"""Before the avatar talks, everything is the dispatching organization's own, or there is no avatar."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from livekit.agents import utils
from livekit.agents.vad import VAD
from livekit.plugins import silero

from agents.avatar.conversation import AvatarConfig
from agents.avatar.job import AvatarUnavailable, build_tts, prepare
from escuta.settings import Settings
from tests.accounts.helpers import Org, register
from tests.avatar.conftest import ELEVEN_KEY, ELEVEN_VOICE, STUB_AVATAR, STUB_KEY
from tests.avatar.elevenlabs_stub import ElevenLabsVoices
from tests.liveavatar_stub import LiveAvatarStub

CONFIG = {"avatarId": STUB_AVATAR, "voice": {"ttsProvider": "openai", "voiceId": "coral"}}


@pytest.fixture(scope="module")
def vad() -> VAD:
    return silero.VAD.load()


async def configured(client: httpx.AsyncClient, name: str, *, liveavatar: bool) -> Org:
    org = await register(client, name)
    assert (await client.put("/avatar/config", json=CONFIG, headers=org.headers)).status_code == 200
    await client.put("/credentials/openai", json={"secret": f"sk-{name}-openai-key"}, headers=org.headers)
    if liveavatar:
        await client.put("/credentials/liveavatar", json={"secret": STUB_KEY}, headers=org.headers)
    return org


async def test_no_liveavatar_key_means_no_avatar_never_another_orgs(
    avatar_client: httpx.AsyncClient,
    avatar_settings: Settings,
    db_pool: asyncpg.Pool,
    liveavatar: LiveAvatarStub,
    admin_headers: dict[str, str],
    vad: VAD,
) -> None:
    with_key = await configured(avatar_client, "A", liveavatar=True)
    without = await configured(avatar_client, "B", liveavatar=False)
    for org in (with_key, without):
        await avatar_client.post("/credits/grants", json={"orgId": org.org_id, "amount": "5"}, headers=admin_headers)
    settings = avatar_settings.model_copy(update={"stt_providers": ["local"]})
    ready = await prepare(settings, db_pool, uuid.UUID(with_key.org_id), vad)
    assert ready.liveavatar_key == STUB_KEY and ready.config.avatar_id == STUB_AVATAR
    await ready.session.aclose()
    with pytest.raises(AvatarUnavailable) as refused:
        await prepare(settings, db_pool, uuid.UUID(without.org_id), vad)
    assert refused.value.code == "missing_liveavatar_key"
    assert liveavatar.sessions == {} and liveavatar.rejected_keys == []  # nothing was even tried


async def test_unconfigured_or_out_of_credit_is_refused(
    avatar_client: httpx.AsyncClient, avatar_settings: Settings, db_pool: asyncpg.Pool, vad: VAD
) -> None:
    bare = await register(avatar_client, "C")
    settings = avatar_settings.model_copy(update={"stt_providers": ["local"]})
    with pytest.raises(AvatarUnavailable) as refused:
        await prepare(settings, db_pool, uuid.UUID(bare.org_id), vad)
    assert refused.value.code == "not_configured"
    broke = await configured(avatar_client, "D", liveavatar=True)
    with pytest.raises(AvatarUnavailable) as refused:
        await prepare(settings, db_pool, uuid.UUID(broke.org_id), vad)
    assert refused.value.code == "insufficient_credits"


async def test_elevenlabs_voice_speaks_with_the_orgs_key_and_voice(
    eleven: ElevenLabsVoices, avatar_settings: Settings
) -> None:
    config = AvatarConfig(STUB_AVATAR, "", "pt-BR", "elevenlabs", ELEVEN_VOICE)
    voice = build_tts(config, avatar_settings, ELEVEN_KEY)
    async with utils.http_context.open():
        frames = [ev.frame async for ev in voice.synthesize("Olá, tudo bem?")]
    assert eleven.speech == [(ELEVEN_VOICE, "pcm_24000", "Olá, tudo bem?")] and eleven.seen_keys == [ELEVEN_KEY]
    seconds = sum(f.samples_per_channel for f in frames) / 24000
    assert frames[0].sample_rate == 24000 and abs(seconds - 0.06 * len("Olá, tudo bem?")) < 0.05
