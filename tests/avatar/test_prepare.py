"""Before the avatar talks, everything is the dispatching organization's own, or there is no avatar."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import httpx
import pytest
from livekit import rtc
from livekit.agents import JobContext, utils
from livekit.agents.vad import VAD
from livekit.plugins import silero
from pydantic import SecretStr

from agents.avatar.conversation import REASON_ATTRIBUTE, STATUS_ATTRIBUTE, STATUS_TOPIC, AvatarConfig
from agents.avatar.prepare import AvatarUnavailable, build_tts, prepare
from agents.avatar.profile import AvatarProfile
from agents.profiles import ProfileContext, get_profile
from agents.profiles.base import SessionInfo
from agents.room import RoomPublisher
from core.settings import Settings
from db import credentials
from db.credentials import MissingCredentialError, resolve_credential
from tests.accounts.helpers import Org, register
from tests.avatar.conftest import ELEVEN_KEY, ELEVEN_VOICE, STUB_AVATAR, STUB_KEY
from tests.avatar.elevenlabs_stub import ElevenLabsVoices
from tests.conftest import make_settings
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
    settings = avatar_settings.replace(**{"stt_providers": ["local"]})
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
    settings = avatar_settings.replace(**{"stt_providers": ["local"]})
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


class FakeLocalParticipant:
    def __init__(self) -> None:
        self.attributes: dict[str, str] = {}
        self.texts: list[tuple[str, dict[str, Any], list[str] | None]] = []

    async def set_attributes(self, attributes: dict[str, str]) -> None:
        self.attributes.update(attributes)

    async def send_text(
        self,
        text: str,
        *,
        topic: str = "",
        destination_identities: list[str] | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None:
        self.texts.append((topic, json.loads(text), destination_identities))


class FakeRoom:
    """What `tell_unavailable` uses of a room: one visitor already there, the agent's own participant."""

    def __init__(self) -> None:
        visitor = SimpleNamespace(identity="visitor-1", kind=rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD)
        self.remote_participants = {"visitor-1": visitor}
        self.local_participant = FakeLocalParticipant()
        self.connected = False

    def on(self, event: str, callback: Any) -> None:
        return None

    def isconnected(self) -> bool:
        return self.connected


class FakeJob:
    def __init__(self) -> None:
        self.room = FakeRoom()
        self.job = SimpleNamespace(id="AJ_platform_key")

    async def connect(self, *, auto_subscribe: Any = None) -> None:
        self.room.connected = True


async def test_a_platform_liveavatar_key_is_never_used(
    avatar_client: httpx.AsyncClient,
    avatar_settings: Settings,
    db_pool: asyncpg.Pool,
    liveavatar: LiveAvatarStub,
    admin_headers: dict[str, str],
    vad: VAD,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Settings that (wrongly) enable a platform LiveAvatar key, a valid one: still no avatar without the
    organization's own key, and the frontend is told why."""
    org = await configured(avatar_client, "P", liveavatar=False)
    await avatar_client.post("/credits/grants", json={"orgId": org.org_id, "amount": "5"}, headers=admin_headers)
    org_id = uuid.UUID(org.org_id)
    settings = avatar_settings.replace(
        **{
            "stt_providers": ["local"],
            "platform_default_providers": ["liveavatar"],
            "platform_default_keys": {"liveavatar": SecretStr(STUB_KEY)},
        }
    )
    credentials._warned_ignored_defaults.discard("liveavatar")
    with caplog.at_level(logging.WARNING, logger="escuta.credentials"):
        for _ in range(2):  # every caller, not only the avatar; one warning per process
            with pytest.raises(MissingCredentialError):
                await resolve_credential(db_pool, org_id, "liveavatar", settings=settings)
    warnings = [r for r in caplog.records if r.name == "escuta.credentials"]
    assert len(warnings) == 1 and "ignored" in warnings[0].getMessage()

    with pytest.raises(AvatarUnavailable) as refused:
        await prepare(settings, db_pool, org_id, vad)
    assert refused.value.code == "missing_liveavatar_key"

    job = FakeJob()
    info = SessionInfo("RM_platform_key", "avatar-room", org_id, "avatar", datetime.now(UTC))
    # The avatar is a registered profile like the others: the worker starts it and runs it in the room.
    assert get_profile("avatar") is AvatarProfile
    profile = AvatarProfile()
    await profile.start(ProfileContext(info, settings, RoomPublisher(cast(Any, job.room)), db_pool))
    assert profile.unavailable is not None and profile.unavailable.code == "missing_liveavatar_key"
    close = await profile.run_in_room(cast(JobContext, job), info, vad_model=None)
    await close()
    local = job.room.local_participant
    for _ in range(100):  # the visitor is told from a task
        if local.texts:
            break
        await asyncio.sleep(0.01)
    assert local.attributes == {STATUS_ATTRIBUTE: "unavailable", REASON_ATTRIBUTE: "missing_liveavatar_key"}
    [(topic, event, to)] = local.texts
    assert topic == STATUS_TOPIC and to == ["visitor-1"]
    assert event["type"] == "status" and event["status"] == "unavailable"
    assert event["reason"] == "missing_liveavatar_key" and "liveavatar" in event["message"]
    assert liveavatar.sessions == {} and liveavatar.rejected_keys == []  # the platform key was never tried


async def test_another_platform_default_still_applies_where_enabled(
    avatar_client: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    """Only LiveAvatar is excluded: a provider the platform explicitly enables keeps its default."""
    org = await register(avatar_client, "Q")
    settings = make_settings(
        platform_default_providers=["openai", "liveavatar"],
        platform_default_keys={"openai": "sk-platform-openai", "liveavatar": STUB_KEY},
    )
    assert await resolve_credential(db_pool, org.org_id, "openai", settings=settings) == "sk-platform-openai"
    with pytest.raises(MissingCredentialError):
        await resolve_credential(db_pool, org.org_id, "openai", settings=settings, allow_platform_default=False)
    with pytest.raises(MissingCredentialError):
        await resolve_credential(db_pool, org.org_id, "liveavatar", settings=settings)
