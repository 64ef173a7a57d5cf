"""The avatar profile (seed 000, "EuVatar"): a talking avatar on LiveAvatar, per organization.

Unlike the listening profiles it converses: an AgentSession (the organization's STT chain, LLM and TTS)
speaks through LiveAvatar's `AvatarSession`, which replaces the session's audio output and streams it to
the avatar service. `start` resolves everything for the organization (`agents/avatar/prepare.py`); when
something is missing the agent still joins, but only to tell the frontend why: participant attributes
`escuta.avatar.status=unavailable` / `escuta.avatar.reason=<code>` and a `status` event on the
`escuta.avatar.status` text-stream topic to every visitor. The conversation never starts.

LiveAvatar joins the room from its own cloud, so it is handed `ESCUTA_LIVEKIT_PUBLIC_URL`, never
`LIVEKIT_URL` (where this worker reaches LiveKit, usually a loopback or service address). When the public
URL is unset, or is a loopback, private or site-local address, the avatar is not started: one error log
line names the setting and why, and the frontend is told `livekit_url_not_public`.

The credit is watched while it runs: a warning before it runs out, a graceful end at zero. Usage is
recorded when the job ends (a crashed job is reconciled from webhooks by the `avatar.usage` job).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from livekit import rtc
from livekit.agents import AutoSubscribe, JobContext
from livekit.plugins import liveavatar as la
from livekit.plugins import silero

from agents.audio import SileroModel
from agents.avatar.commands import SessionCommands
from agents.avatar.conversation import (
    REASON_ATTRIBUTE,
    STATUS_ATTRIBUTE,
    STATUS_TOPIC,
    AvatarAgent,
    MediaWatcher,
    session_usage,
)
from agents.avatar.prepare import AvatarUnavailable, CreditWatch, Prepared, prepare, record_session_usage
from agents.profiles.base import ParticipantHandler, Profile, ProfileContext, SessionInfo, Speaker, register
from agents.room import RoomEndpoints, RoomPublisher
from core.security.public_url import public_url_problem

log = logging.getLogger("escuta.avatar")

AVATAR_PROFILE = "avatar"


@register
class AvatarProfile(Profile):
    """A conversation with the room's visitors rather than a listener of every participant."""

    name: ClassVar[str] = AVATAR_PROFILE

    def __init__(self) -> None:
        self.ctx: ProfileContext | None = None
        self.prepared: Prepared | None = None
        self.unavailable: AvatarUnavailable | None = None

    async def start(self, ctx: ProfileContext) -> None:
        # Never refuses the job: a missing piece is told to the frontend once in the room (`run_in_room`).
        self.ctx = ctx
        org_id = ctx.session.org_id
        if ctx.pool is None or org_id is None:
            self.unavailable = AvatarUnavailable("no_organization", "this room belongs to no organization")
            return
        # Checked first: a platform misconfiguration, the same for every organization, spends nothing.
        problem = await public_url_problem(ctx.settings.livekit.public_url)
        if problem is not None:
            log.error(
                "avatar not started in room %s: ESCUTA_LIVEKIT_PUBLIC_URL %s (%s); LiveAvatar joins rooms "
                "from its own cloud and needs a LiveKit URL reachable from the internet",
                ctx.session.room_name,
                problem.summary(),
                problem.detail,
            )
            self.unavailable = AvatarUnavailable(
                "livekit_url_not_public", f"the platform's public LiveKit URL {problem.summary()}"
            )
            return
        # livekit's own Silero VAD for the session's turn-taking (the worker's prewarmed model is Escuta's chain's).
        vad = silero.VAD.load()
        try:
            self.prepared = await prepare(ctx.settings, ctx.pool, org_id, vad, language=ctx.session.language)
        except AvatarUnavailable as exc:
            log.warning("no avatar for organization %s: %s", org_id, exc.code)
            self.unavailable = exc

    def participant(self, speaker: Speaker) -> ParticipantHandler:
        raise NotImplementedError("the avatar converses through its AgentSession; it has no per-participant chain")

    async def run_in_room(
        self, job: JobContext, session: SessionInfo, *, vad_model: SileroModel | None
    ) -> Callable[[], Awaitable[None]]:
        assert self.ctx is not None, "start() first"
        if self.prepared is None:
            await tell_unavailable(job, self.unavailable or AvatarUnavailable("unavailable", "no avatar"))
            return _nothing
        return await run_avatar(job, self.ctx, self.prepared)


async def _nothing() -> None:
    return None


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


async def run_avatar(ctx: JobContext, pctx: ProfileContext, prepared: Prepared) -> Callable[[], Awaitable[None]]:
    """Start the avatar in the room; returns what ends it when the job ends (records the usage)."""
    settings, info, pool, org_id = pctx.settings, pctx.session, pctx.pool, pctx.session.org_id
    public_url = settings.livekit.public_url
    # `start` made the avatar unavailable otherwise.
    assert pool is not None and org_id is not None and public_url is not None
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

    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    avatar = la.AvatarSession(
        avatar_id=prepared.config.avatar_id,
        api_key=prepared.liveavatar_key,
        api_url=settings.avatar.liveavatar_api_url,
        avatar_participant_identity=settings.avatar.participant_identity,
    )
    try:
        await avatar.start(
            session,
            room=ctx.room,
            livekit_url=public_url,  # LiveAvatar's servers join from outside: never LIVEKIT_URL
            livekit_api_key=settings.livekit.api_key,
            livekit_api_secret=settings.livekit.api_secret.get_secret_value(),
        )
    except Exception as exc:  # the service refused (wrong key, unknown avatar) or is unreachable
        log.warning("job %s: LiveAvatar refused the session: %s", ctx.job.id, type(exc).__name__)
        await session.aclose()
        await tell_unavailable(ctx, AvatarUnavailable("liveavatar_refused", "LiveAvatar refused to start the avatar"))
        return _nothing
    # Charged from here on: the avatar service has accepted the session.
    started = time.monotonic()
    started_at = datetime.now(UTC)
    session.on("close", lambda _ev: ctx.shutdown(reason="avatar session closed"))
    await session.start(AvatarAgent(prepared.config), room=ctx.room)
    endpoints = RoomEndpoints(ctx.room)
    endpoints.register(rpc_methods=SessionCommands(session, end).methods())
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

    async def close() -> None:
        watch.cancel()
        await watcher.drain()
        usage = await record_session_usage(
            settings, pool, info, org_id, session, started_at=started_at, avatar_seconds=time.monotonic() - started
        )
        log.info("job %s: avatar usage recorded (%s)", ctx.job.id, json.dumps(usage.as_json()))
        await endpoints.aclose()

    return close
