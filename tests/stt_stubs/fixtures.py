"""pytest fixture and helpers for the provider stubs (import `stt_stub` into a conftest to use it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from livekit.agents import utils

from core.settings import Settings
from tests.conftest import make_settings

from .server import SttStubServer


@pytest.fixture
async def stt_stub() -> AsyncIterator[SttStubServer]:
    stub = await SttStubServer().start()
    # Plugins that use aiohttp need livekit's http context outside a job.
    async with utils.http_context.open():
        yield stub
    await stub.stop()


def stub_settings(stub: SttStubServer, **overrides: Any) -> Settings:
    """Settings whose cloud providers all point at the stub; short timeouts, no cooldown."""
    values: dict[str, Any] = {
        "stt_openai_base_url": f"{stub.http_url}/v1",
        "stt_openai_compatible_base_url": f"{stub.http_url}/v1",
        "stt_elevenlabs_base_url": f"{stub.http_url}/v1",
        "stt_assemblyai_base_url": stub.ws_url,
        "stt_language": "en",
        "stt_attempt_timeout_seconds": 2.0,
        "stt_cooldown_seconds": 0.0,
    }
    values.update(overrides)
    return make_settings(**values)


def stub_env(stub: SttStubServer, language: str = "pt") -> dict[str, str]:
    """For an Escuta process (a worker, `escuta replay`): transcription by the stub's OpenAI-compatible
    route, in ``language``, with no cooldown (a test's provider error must not silence the next call)."""
    return {
        "ESCUTA_STT_PROVIDERS": '["openai_compatible"]',
        "ESCUTA_STT_OPENAI_COMPATIBLE_BASE_URL": f"{stub.http_url}/v1",
        "ESCUTA_STT_OPENAI_COMPATIBLE_API_KEY": stub.keys["openai"],
        "ESCUTA_STT_LANGUAGE": language,
        "ESCUTA_STT_COOLDOWN_SECONDS": "0",
    }


def stub_resolver(stub: SttStubServer) -> Callable[[str], Awaitable[str]]:
    async def resolve(credential: str) -> str:
        return stub.keys[credential]

    return resolve
