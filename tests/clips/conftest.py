"""Fixtures for the clips tests: a Twitch stub on 127.0.0.1 with one registered application."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.settings import Settings
from tests.clips.twitch_stub import TwitchStub

STUB_CLIENT_ID = "stubclientid0000000000000000"
STUB_CLIENT_SECRET = "stubclientsecret00000000000000"


@pytest.fixture
async def twitch() -> AsyncIterator[TwitchStub]:
    stub = TwitchStub(apps={STUB_CLIENT_ID: STUB_CLIENT_SECRET})
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture
def clip_settings(settings: Settings, twitch: TwitchStub) -> Settings:
    """Settings pointing Twitch at the stub."""
    return settings.replace(**{"twitch_api_base_url": twitch.api_base_url, "twitch_id_base_url": twitch.id_base_url})
