"""Fixtures for the avatar tests: the LiveAvatar and ElevenLabs stubs, an API app pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from livekit.agents import utils

from control_api.app import create_app
from core.settings import Settings
from tests.avatar.elevenlabs_stub import ElevenLabsVoices
from tests.conftest import TEST_LK_PUBLIC_URL, make_settings
from tests.liveavatar_stub import LiveAvatarStub
from tests.stt_stubs.fixtures import stt_stub  # noqa: F401  (a fixture for test_compat)

STUB_KEY = "la-key-org-a-0123456789abcdef"
STUB_AVATAR = "0f3b7c5e-1a2b-4c3d-8e9f-0123456789ab"


@pytest.fixture
async def liveavatar() -> AsyncIterator[LiveAvatarStub]:
    stub = LiveAvatarStub(keys={STUB_KEY: {STUB_AVATAR}}, livekit_url=TEST_LK_PUBLIC_URL)
    await stub.start()
    async with utils.http_context.open():
        yield stub
    await stub.stop()


ELEVEN_KEY = "sk_eleven_org_a_0123456789abcdef"
ELEVEN_VOICE = "21m00Tcm4TlvDq8ikWAM"


@pytest.fixture
async def eleven() -> AsyncIterator[ElevenLabsVoices]:
    stub = ElevenLabsVoices(key=ELEVEN_KEY, voices={ELEVEN_VOICE: "Rachel"})
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture
def avatar_settings(database_url: str, eleven: ElevenLabsVoices, liveavatar: LiveAvatarStub) -> Settings:
    return make_settings(
        database_url=database_url,
        avatar_elevenlabs_base_url=eleven.base_url,
        avatar_liveavatar_api_url=liveavatar.api_url,
    )


@pytest.fixture
async def avatar_client(avatar_settings: Settings, db_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(avatar_settings, pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c
