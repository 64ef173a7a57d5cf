"""`escuta worker`: a livekit-agents AgentServer that runs the profile each dispatch asks for.

The LiveKit server dispatches one job per room to one of the registered workers; more workers (on
more machines) are how Escuta scales. The token service (`/token`) puts `{"profile", "org_id",
"solution"}` in the dispatch metadata; the job prepares that profile for that organization (its
providers, its credentials) *before* joining, so a job that cannot work (unknown profile, missing
credential) ends with one clear log line and the room never sees a broken agent. Models (the VAD,
the local Whisper model when configured) are loaded once per job process in the setup hook. The load
the worker reports is the host's CPU (livekit-agents' default) or its running jobs against a fixed
capacity (`ESCUTA_WORKER_LOAD_MEASURE`).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from livekit.agents import AgentServer, JobContext, JobProcess

from agents.audio import load_silero
from agents.heartbeat import WorkerHeartbeat, profile_names
from agents.profiles import Profile, ProfileContext, SessionInfo, get_profile
from agents.room import RoomPublisher
from core.settings import Settings, get_settings
from stt import LanguageUnsupportedError, UnknownProviderError
from stt.local_whisper import LocalModelUnavailable
from stt.models import warn_model_shutdowns

log = logging.getLogger("escuta.worker")

# Keep retrying forever: a worker started before its LiveKit server (laptop, compose, k8s) must simply
# wait for it instead of exiting after livekit-agents' default 16 attempts.
RETRY_FOREVER = sys.maxsize


class JobRefused(Exception):
    """This job cannot run; the message says why (it goes to the log as is, so no personal data)."""


@dataclass(frozen=True)
class Dispatch:
    profile: str
    org_id: UUID | None
    solution: str | None


def parse_dispatch(metadata: str) -> Dispatch:
    try:
        data = json.loads(metadata or "{}")
    except ValueError:
        raise JobRefused("dispatch metadata is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("profile"), str) or not data["profile"]:
        raise JobRefused("dispatch metadata names no profile")
    org: UUID | None = None
    if data.get("org_id"):
        try:
            org = UUID(str(data["org_id"]))
        except ValueError:
            raise JobRefused("dispatch metadata has an invalid org_id") from None
    solution = data.get("solution")
    return Dispatch(data["profile"], org, solution if isinstance(solution, str) else None)


def session_of(ctx: JobContext, dispatch: Dispatch) -> SessionInfo:
    room = ctx.job.room
    created = room.creation_time_ms / 1000 if room.creation_time_ms else room.creation_time
    origin = datetime.fromtimestamp(created, tz=UTC) if created else datetime.now(UTC)
    return SessionInfo(
        meeting_id=room.sid or f"name:{room.name}",
        room_name=room.name,
        org_id=dispatch.org_id,
        solution=dispatch.solution,
        clock_origin=origin,
    )


async def start_profile(dispatch: Dispatch, ctx: ProfileContext) -> Profile:
    """The dispatched profile, ready for this session; `JobRefused` when it cannot run."""
    from db.credentials import MissingCredentialError

    cls = get_profile(dispatch.profile)
    if cls is None:
        raise JobRefused(f"unknown profile {dispatch.profile!r}")
    profile = cls()
    profile.configure_audio(ctx.settings)
    try:
        await profile.start(ctx)
    except MissingCredentialError as exc:
        await profile.aclose()
        raise JobRefused(
            f"organization {exc.org_id} has no {exc.provider} credential, which profile {dispatch.profile!r} needs"
        ) from None
    except LanguageUnsupportedError as exc:
        await profile.aclose()
        where = f"solution {dispatch.solution!r} of organization {dispatch.org_id}" if dispatch.org_id else "this room"
        raise JobRefused(
            f"{where} speaks {exc.language}, which no configured speech-to-text provider transcribes: {exc}"
        ) from None
    except (UnknownProviderError, LocalModelUnavailable) as exc:
        await profile.aclose()
        raise JobRefused(str(exc)) from None
    return profile


async def room_language(settings: Settings, pool: asyncpg.Pool | None, dispatch: Dispatch) -> str | None:
    """The room's language: its solution's, else its organization's, else `ESCUTA_STT_LANGUAGE`."""
    if pool is not None and dispatch.org_id is not None:
        from db.language import room_languages
        from db.tenancy import tenant_connection

        async with tenant_connection(pool, dispatch.org_id) as conn:
            found = (await room_languages(conn, dispatch.org_id, dispatch.solution)).effective
        if found:
            return found
    return settings.stt.language or None


def prewarm(proc: JobProcess) -> None:
    """Once per job process, before any job: the models every job shares."""
    settings = get_settings()
    proc.userdata["settings"] = settings
    # The configured Silero runtime (`ESCUTA_AUDIO_SILERO_BACKEND`); none when every chain uses webrtcvad.
    audio = settings.audio
    proc.userdata["vad"] = load_silero(audio.silero_backend) if audio.vad != "webrtc" else None
    orders = [settings.stt.providers, *settings.stt.providers_by_org.values()]
    if any("local" in order for order in orders):
        from stt.local_whisper import load_whisper

        # Both the English and the multilingual model (Portuguese first): a room's language is only known
        # per job, and loading a model inside a job would delay its first transcripts by seconds.
        for model in dict.fromkeys(m for m in (settings.stt.local_model, settings.stt.local_multilingual_model) if m):
            try:
                load_whisper(
                    model,
                    settings.stt.local_compute_type,
                    settings.stt.local_threads,
                    settings.data_dir / "models",
                )
            except LocalModelUnavailable as exc:
                log.error("local speech-to-text model %s unavailable: %s", model, exc)  # jobs needing it say so too
    # What is loaded by now lives as long as the process: keep it out of the collector's reach, since a full
    # collection over livekit-agents' and the models' objects stalls every participant's audio (~100 ms).
    gc.collect()
    gc.freeze()


async def entrypoint(ctx: JobContext) -> None:
    settings: Settings = ctx.proc.userdata.get("settings") or get_settings()
    pool: asyncpg.Pool | None = None
    try:
        dispatch = parse_dispatch(ctx.job.metadata)
        session = session_of(ctx, dispatch)
        if settings.db.url:
            from db.pool import create_pool

            pool = await create_pool(settings.db.url, settings, min_size=0, max_size=2)
        else:
            log.warning("job %s: ESCUTA_DATABASE_URL is not set; results are published but not stored", ctx.job.id)
        session = replace(session, language=await room_language(settings, pool, dispatch))
        profile = await start_profile(dispatch, _profile_context(ctx, settings, session, pool))
    except JobRefused as exc:
        log.error("job %s ends without joining room %s: %s", ctx.job.id, ctx.job.room.sid, exc)
        if pool is not None:
            await pool.close()
        ctx.shutdown(reason=str(exc))
        return

    closers: list[Callable[[], Awaitable[None]]] = []
    finished = False

    async def _finish(reason: str) -> None:
        nonlocal finished
        finished = True
        # Every open utterance is closed, transcribed and stored (the avatar's usage recorded) before the
        # process lets go; the pool closes last, since all of that writes through it.
        for close in closers:
            await close()
        await profile.aclose()
        log.info("job %s finished (%s): %s", ctx.job.id, reason, json.dumps(profile.summary()))
        if pool is not None:
            await pool.close()

    ctx.add_shutdown_callback(_finish)
    close_room = await profile.run_in_room(ctx, session, vad_model=ctx.proc.userdata.get("vad"))
    if finished:  # the job ended while joining: nothing else will close what just started
        await close_room()
        return
    closers.append(close_room)
    log.info(
        "job %s running profile %s in room %s with %d participant(s)",
        ctx.job.id,
        dispatch.profile,
        session.meeting_id,
        len(ctx.room.remote_participants),
    )


def _profile_context(
    ctx: JobContext, settings: Settings, session: SessionInfo, pool: asyncpg.Pool | None
) -> ProfileContext:
    resolve = None
    if pool is not None and session.org_id is not None:
        from db.credentials import resolve_credential

        org, p = session.org_id, pool

        async def resolve(credential: str) -> str:
            return await resolve_credential(p, org, credential, settings=settings)

    return ProfileContext(session, settings, RoomPublisher(ctx.room), pool, resolve)


def jobs_load(max_jobs: int) -> Callable[[AgentServer], float]:
    """Load as running jobs / `max_jobs`, in [0, 1]: a fixed capacity per worker, whatever else the host runs."""

    def load(server: AgentServer) -> float:
        return min(1.0, max(0.0, len(server.active_jobs) / max_jobs))

    return load


def load_function(settings: Settings) -> Callable[[AgentServer], float] | None:
    """The worker's load report; None is livekit-agents' default (the host's CPU, averaged)."""
    if settings.worker.load_measure == "jobs":
        return jobs_load(settings.worker.max_jobs)
    return None


def build_server(settings: Settings) -> AgentServer:
    server = AgentServer(
        ws_url=settings.livekit.url,
        api_key=settings.livekit.api_key,
        api_secret=settings.livekit.api_secret.get_secret_value(),
        load_threshold=settings.worker.load_threshold,
        load_fnc=load_function(settings),
        num_idle_processes=settings.worker.num_idle_processes,
        port=settings.worker.http_port,
        max_retry=RETRY_FOREVER,
        setup_fnc=prewarm,
    )
    server.rtc_session(entrypoint, agent_name=settings.worker.agent_name)
    attach_heartbeat(server, settings)
    return server


def attach_heartbeat(server: AgentServer, settings: Settings) -> WorkerHeartbeat | None:
    """Start the PostgreSQL heartbeat (agents/heartbeat.py) on the server's own loop once it runs."""
    if not settings.db.url:
        return None
    measure = load_function(settings)

    def load() -> float:
        if measure is not None:
            return measure(server)
        import psutil  # livekit-agents' own dependency; its default load is the host's CPU too

        return float(psutil.cpu_percent(interval=None)) / 100

    heartbeat = WorkerHeartbeat(
        settings,
        profiles=profile_names(),
        load=load,
        jobs=lambda: len(server.active_jobs),
        livekit_id=lambda: None if server.id == "unregistered" else server.id,
    )

    @server.on("worker_started")
    def _start() -> None:
        heartbeat.task = asyncio.get_running_loop().create_task(heartbeat.run(), name="escuta-worker-heartbeat")

    return heartbeat


def run_worker(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, through the same runner `python -m livekit.agents start` uses."""
    from livekit.agents.cli import proto
    from livekit.agents.cli.cli import _run_worker

    server = build_server(settings)

    @server.on("worker_started")
    def _started() -> None:
        # Logged from inside the runner: livekit-agents configures logging when it starts.
        log.info(
            "worker registering with LiveKit at %s as agent %r (keeps retrying until the server answers)",
            settings.livekit.url,
            settings.worker.agent_name or "(automatic dispatch)",
        )
        warn_model_shutdowns(settings)

    _run_worker(
        server,
        proto.CliArgs(
            log_level=settings.log_level,
            url=settings.livekit.url,
            api_key=settings.livekit.api_key,
            api_secret=settings.livekit.api_secret.get_secret_value(),
            log_format="json" if settings.log_format == "json" else "colored",
            dev=False,
        ),
    )


__all__: list[Any] = [
    "Dispatch",
    "JobRefused",
    "attach_heartbeat",
    "build_server",
    "entrypoint",
    "jobs_load",
    "load_function",
    "parse_dispatch",
    "prewarm",
    "run_worker",
]
