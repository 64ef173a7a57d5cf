"""The avatar job in a room: the worker calls `run_avatar_job` when the dispatch names profile `avatar`.

Before anything talks, every piece is resolved for the dispatching organization only: its avatar
configuration, its LiveAvatar key (seed 000: no key, no avatar — never a platform or another
organization's key), its LLM, voice and speech-to-text keys, and its credit. When one is missing the
agent still joins, but only to tell the frontend why: participant attributes
`escuta.avatar.status=unavailable` / `escuta.avatar.reason=<code>` and a `status` event on the
`escuta.avatar.status` text-stream topic to every visitor. The conversation never starts.

Otherwise an AgentSession (the organization's STT chain, LLM and TTS) speaks through LiveAvatar's
`AvatarSession`, which replaces the session's audio output and streams it to the avatar service. The
credit is watched while it runs: a warning before it runs out, a graceful end at zero. Usage is
recorded when the job ends (a crashed job is reconciled from webhooks by the `avatar.usage` job).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from livekit import rtc
from livekit.agents import AgentSession, AutoSubscribe, JobContext, tts
from livekit.plugins import elevenlabs, openai, silero
from livekit.plugins import liveavatar as la

from agents.avatar.commands import SessionCommands
from agents.avatar.conversation import (
    REASON_ATTRIBUTE,
    STATUS_ATTRIBUTE,
    STATUS_TOPIC,
    AvatarAgent,
    AvatarConfig,
    MediaWatcher,
    load_config,
    session_usage,
)
from agents.profiles.base import ProfileRpcError, RequestHandler, SessionInfo, Speaker
from agents.room import RoomPublisher
from agents.stt import build_providers
from agents.stt.fallback import livekit_fallback
from db import credits as credits_repo
from db.credentials import MissingCredentialError, resolve_credential
from db.tenancy import tenant_connection
from escuta.avatar.credits import Usage, seconds_of_credit
from escuta.avatar.triggers import TriggerMatcher
from escuta.settings import Settings

log = logging.getLogger("escuta.avatar")


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
            voice_id=config.voice_id, api_key=key, base_url=settings.avatar_elevenlabs_base_url, encoding="pcm_24000"
        )
    if config.tts_provider == "openai":
        return openai.TTS(
            voice=config.voice_id, api_key=key, base_url=settings.avatar_openai_base_url, response_format="pcm"
        )
    raise unsupported_tts(config.tts_provider)


async def prepare(settings: Settings, pool: asyncpg.Pool, org_id: UUID, vad: Any) -> Prepared:
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
        stt_providers = await build_providers(settings, org_id, resolve)
    except MissingCredentialError as exc:
        raise AvatarUnavailable(f"missing_{exc.provider}_key", f"the organization has no {exc.provider} key") from None
    async with tenant_connection(pool, org_id) as conn:
        if await credits_repo.balance(conn, org_id) <= 0:
            raise AvatarUnavailable("insufficient_credits", "the organization has no credit left")
    session: AgentSession[Any] = AgentSession(
        stt=livekit_fallback(stt_providers, vad=vad, attempt_timeout=settings.stt_attempt_timeout_seconds),
        llm=openai.LLM(model=settings.avatar_llm_model, base_url=settings.avatar_openai_base_url, api_key=llm_key),
        tts=build_tts(config, settings, tts_key),
        vad=vad,
    )
    matcher = TriggerMatcher(triggers, default_cooldown=settings.avatar_media_cooldown_seconds)
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


def rpc_handler(
    caller_of: Callable[[str], Speaker], handler: RequestHandler
) -> Callable[[rtc.RpcInvocationData], Awaitable[str]]:
    async def invoke(data: rtc.RpcInvocationData) -> str:
        try:
            return await handler(caller_of(data.caller_identity), data.payload)
        except ProfileRpcError as exc:
            raise rtc.RpcError(rtc.RpcError.ErrorCode.APPLICATION_ERROR, str(exc)) from None
        except Exception:
            log.exception("avatar command failed")
            raise rtc.RpcError(rtc.RpcError.ErrorCode.APPLICATION_ERROR, "internal error") from None

    return invoke


async def tell_unavailable(ctx: JobContext, reason: AvatarUnavailable) -> None:
    """Join only to say why there is no avatar: an attribute, and a status event to every visitor."""
    publisher = RoomPublisher(ctx.room)
    event = json.dumps({"type": "status", "status": "unavailable", "reason": reason.code, "message": reason.message})
    sent: set[str] = set()

    async def notify(identity: str) -> None:
        if identity not in sent:
            sent.add(identity)
            await publisher.send_text(STATUS_TOPIC, event, to=[identity])

    tasks: set[asyncio.Task[None]] = set()

    def on_join(p: rtc.RemoteParticipant) -> None:
        if p.kind != rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            task = asyncio.create_task(notify(p.identity))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    ctx.room.on("participant_connected", on_join)
    if not ctx.room.isconnected():  # LiveAvatar's refusal comes after the job has joined
        await ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_NONE)
    await ctx.room.local_participant.set_attributes({STATUS_ATTRIBUTE: "unavailable", REASON_ATTRIBUTE: reason.code})
    for p in list(ctx.room.remote_participants.values()):
        on_join(p)


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
            if left <= self.settings.credit_warning_seconds and not self.warned:
                self.warned = True
                await warn(left)
            await asyncio.sleep(min(self.settings.credit_check_interval_seconds, max(left, 0.5)))


async def run_avatar_job(ctx: JobContext, settings: Settings, info: SessionInfo, pool: asyncpg.Pool | None) -> None:
    if pool is None or info.org_id is None:
        await tell_unavailable(ctx, AvatarUnavailable("no_organization", "this room belongs to no organization"))
        return
    org_id = info.org_id
    # livekit's own Silero VAD for the session's turn-taking (the worker's prewarmed model is Escuta's chain's).
    vad = silero.VAD.load()
    try:
        prepared = await prepare(settings, pool, org_id, vad)
    except AvatarUnavailable as exc:
        log.warning("job %s: no avatar for organization %s: %s", ctx.job.id, org_id, exc.code)
        await tell_unavailable(ctx, exc)
        return
    session = prepared.session
    publisher = RoomPublisher(ctx.room)
    watcher = MediaWatcher(prepared.matcher, publisher)
    watcher.attach(session)
    ending = asyncio.Event()

    def end(reason: str) -> None:
        if not ending.is_set():
            ending.set()
            log.info("job %s: avatar session ending (%s)", ctx.job.id, reason)
            session.shutdown(drain=True)  # finishes the current sentence, then closes

    async def record(reason: str) -> None:
        seconds = time.monotonic() - started
        await watcher.drain()
        usage = await record_session_usage(
            settings, pool, info, org_id, session, started_at=started_at, avatar_seconds=seconds
        )
        log.info("job %s: avatar usage recorded (%s)", ctx.job.id, json.dumps(usage.as_json()))

    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    avatar = la.AvatarSession(
        avatar_id=prepared.config.avatar_id,
        api_key=prepared.liveavatar_key,
        api_url=settings.avatar_liveavatar_api_url,
        avatar_participant_identity=settings.avatar_participant_identity,
    )
    try:
        await avatar.start(
            session,
            room=ctx.room,
            livekit_url=settings.livekit_url,
            livekit_api_key=settings.livekit_api_key,
            livekit_api_secret=settings.livekit_api_secret.get_secret_value(),
        )
    except Exception as exc:  # the service refused (wrong key, unknown avatar) or is unreachable
        log.warning("job %s: LiveAvatar refused the session: %s", ctx.job.id, type(exc).__name__)
        await session.aclose()
        await tell_unavailable(ctx, AvatarUnavailable("liveavatar_refused", "LiveAvatar refused to start the avatar"))
        return
    # Charged from here on: the avatar service has accepted the session.
    started = time.monotonic()
    started_at = datetime.now(UTC)
    ctx.add_shutdown_callback(record)
    session.on("close", lambda _ev: ctx.shutdown(reason="avatar session closed"))
    await session.start(AvatarAgent(prepared.config), room=ctx.room)
    commands = SessionCommands(session, end)
    for method, handler in commands.methods().items():
        ctx.room.local_participant.register_rpc_method(method, rpc_handler(_caller(ctx.room), handler))
    await ctx.room.local_participant.set_attributes({STATUS_ATTRIBUTE: "ready", REASON_ATTRIBUTE: ""})

    async def warn(seconds_left: float) -> None:
        event = {"type": "status", "status": "credit_low", "secondsLeft": round(seconds_left)}
        await publisher.send_text(STATUS_TOPIC, json.dumps(event))

    async def out_of_credit() -> None:
        await ctx.room.local_participant.set_attributes(
            {STATUS_ATTRIBUTE: "ending", REASON_ATTRIBUTE: "insufficient_credits"}
        )
        event = {"type": "status", "status": "ending", "reason": "insufficient_credits"}
        await publisher.send_text(STATUS_TOPIC, json.dumps(event))
        end("insufficient_credits")

    def cost() -> Any:
        return session_usage(session, avatar_seconds=time.monotonic() - started).credits(settings)

    watch = asyncio.create_task(CreditWatch(settings, pool, org_id, cost).run(warn, out_of_credit))

    async def stop_watch(reason: str) -> None:
        watch.cancel()

    ctx.add_shutdown_callback(stop_watch)


def _caller(room: rtc.Room) -> Callable[[str], Speaker]:
    def caller(identity: str) -> Speaker:
        p = room.remote_participants.get(identity)
        if p is None:
            return Speaker(identity, None)
        return Speaker(identity, None, name=p.name, metadata=p.metadata, attributes=dict(p.attributes))

    return caller
