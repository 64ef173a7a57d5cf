"""Everything an avatar session needs, resolved for the dispatching organization only, before it talks.

Its avatar configuration, its LiveAvatar key (seed 000: no key, no avatar, never a platform or another
organization's key), its LLM, voice and speech-to-text keys, and its credit. `prepare` raises
`AvatarUnavailable` naming what is missing; the profile then tells the frontend why. While a session
runs, `CreditWatch` warns before the credit runs out and ends it at zero; `record_session_usage`
charges what it consumed when it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from livekit.agents import AgentSession, tts
from livekit.plugins import elevenlabs, openai

from agents.avatar.conversation import AvatarConfig, load_config, session_usage
from agents.profiles.base import SessionInfo
from core.avatar.credits import Usage, seconds_of_credit
from core.avatar.triggers import TriggerMatcher
from core.settings import Settings
from db import credits as credits_repo
from db.credentials import MissingCredentialError, resolve_credential
from db.tenancy import tenant_connection
from stt import build_providers
from stt.fallback import livekit_fallback


class AvatarUnavailable(Exception):
    """The avatar cannot run for this organization; ``code`` is what the frontend is told."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Prepared:
    config: AvatarConfig
    matcher: TriggerMatcher
    liveavatar_key: str
    session: AgentSession[Any]


SPOKEN_TTS_PROVIDERS = ("elevenlabs", "openai")
"""The voices the avatar speaks with. Hume is refused (`unsupported_tts_provider`): its livekit plugin is
not installed and no stub tests it, so a Hume voice would only fail once a visitor is talking."""


def unsupported_tts(provider: str) -> AvatarUnavailable:
    return AvatarUnavailable("unsupported_tts_provider", f"text-to-speech provider {provider!r} is not supported yet")


def build_tts(config: AvatarConfig, settings: Settings, key: str) -> tts.TTS[Any]:
    if config.tts_provider == "elevenlabs":
        # PCM at 24 kHz: what LiveAvatar takes, so no decoding and no resampling on the way.
        return elevenlabs.TTS(
            voice_id=config.voice_id, api_key=key, base_url=settings.avatar.elevenlabs_base_url, encoding="pcm_24000"
        )
    if config.tts_provider == "openai":
        return openai.TTS(
            voice=config.voice_id, api_key=key, base_url=settings.avatar.openai_base_url, response_format="pcm"
        )
    raise unsupported_tts(config.tts_provider)


async def prepare(
    settings: Settings, pool: asyncpg.Pool, org_id: UUID, vad: Any, *, language: str | None = None
) -> Prepared:
    """Everything the conversation needs, for this organization only; `AvatarUnavailable` otherwise."""
    config, triggers = await load_config(pool, org_id)
    if config is None:
        raise AvatarUnavailable("not_configured", "the organization has not configured its avatar")
    if config.tts_provider not in SPOKEN_TTS_PROVIDERS:  # refused at configuration; an older row may remain
        raise unsupported_tts(config.tts_provider)

    async def resolve(provider: str) -> str:
        return await resolve_credential(pool, org_id, provider, settings=settings)

    try:
        # The organization's own LiveAvatar key or no avatar: never a platform key, whatever the settings.
        liveavatar_key = await resolve_credential(
            pool, org_id, "liveavatar", settings=settings, allow_platform_default=False
        )
        llm_key = await resolve("openai")
        tts_key = await resolve(config.tts_provider)
        stt_providers = await build_providers(settings, org_id, resolve, language=language)
    except MissingCredentialError as exc:
        raise AvatarUnavailable(f"missing_{exc.provider}_key", f"the organization has no {exc.provider} key") from None
    async with tenant_connection(pool, org_id) as conn:
        if await credits_repo.balance(conn, org_id) <= 0:
            raise AvatarUnavailable("insufficient_credits", "the organization has no credit left")
    session: AgentSession[Any] = AgentSession(
        stt=livekit_fallback(stt_providers, vad=vad, attempt_timeout=settings.stt.attempt_timeout_seconds),
        llm=openai.LLM(model=settings.avatar.llm_model, base_url=settings.avatar.openai_base_url, api_key=llm_key),
        tts=build_tts(config, settings, tts_key),
        vad=vad,
    )
    matcher = TriggerMatcher(triggers, default_cooldown=settings.avatar.media_cooldown_seconds)
    return Prepared(config, matcher, liveavatar_key, session)


async def record_session_usage(
    settings: Settings,
    pool: asyncpg.Pool,
    info: SessionInfo,
    org_id: UUID,
    session: AgentSession[Any],
    *,
    started_at: datetime,
    avatar_seconds: float,
) -> Usage:
    """Records what the session consumed (livekit-agents' usage counters) and charges it, once per session."""
    usage = session_usage(session, avatar_seconds=avatar_seconds)
    async with tenant_connection(pool, org_id) as conn:
        await credits_repo.record_usage(
            conn,
            org_id=org_id,
            meeting_id=info.meeting_id,
            room_name=info.room_name,
            started_at=started_at,
            ended_at=datetime.now(UTC),
            usage=usage,
            credits=usage.credits(settings),
            source="agent",
        )
    return usage


class CreditWatch:
    """Warns once when the credit is about to run out, and ends the session gracefully at zero."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, org_id: UUID, cost_so_far: Callable[[], Any]) -> None:
        self.settings = settings
        self.pool = pool
        self.org_id = org_id
        self.cost_so_far = cost_so_far
        self.warned = False

    async def remaining_seconds(self) -> float:
        async with tenant_connection(self.pool, self.org_id) as conn:
            balance = await credits_repo.balance(conn, self.org_id)
        return seconds_of_credit(balance - self.cost_so_far(), self.settings)

    async def run(self, warn: Callable[[float], Awaitable[None]], end: Callable[[], Awaitable[None]]) -> None:
        while True:
            left = await self.remaining_seconds()
            if left <= 0:
                await end()
                return
            if left <= self.settings.avatar.credits.warning_seconds and not self.warned:
                self.warned = True
                await warn(left)
            await asyncio.sleep(min(self.settings.avatar.credits.check_interval_seconds, max(left, 0.5)))
