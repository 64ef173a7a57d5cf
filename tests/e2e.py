"""What the end-to-end tests through the LiveKit test server share: Escuta's control API where the
server's webhooks reach it, settings that point at the server, the real `escuta worker` registered with
it, a microphone, and waiting on a condition.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import uvicorn
from livekit import rtc

from agents.audio.frames import frames_from_array
from control_api.app import create_app
from control_api.limits import server_limits
from core.settings import Settings
from tests.conftest import make_settings
from tests.livekit_sim.fixtures import LiveKitServer
from tests.livekit_sim.workers import running_agent_worker
from tests.transcription.speech import SR


def server_keys(server: LiveKitServer) -> dict[str, str]:
    """The settings that point Escuta at ``server``."""
    return {"livekit_api_key": server.api_key, "livekit_api_secret": server.api_secret, "livekit_url": server.url}


def room_settings(server: LiveKitServer, database_url: str, agent_name: str, **overrides: Any) -> Settings:
    """Escuta's settings for a test against ``server``: its URL and keys, this run's database, this agent."""
    return make_settings(
        **server_keys(server),
        database_url=database_url,
        agent_name=agent_name,
        **overrides,
    )


WORKER_ARGV = (sys.executable, "-m", "escuta.cli", "worker")


def worker_env(
    database_url: str, agent: str, *, failed_audio_dir: Path | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The real worker's environment: this run's database, ``agent``'s dispatches, local Whisper in English
    (``extra`` overrides any of it), and no refusal of jobs on a busy machine."""
    env = {
        "ESCUTA_DATABASE_URL": database_url,
        "ESCUTA_AGENT_NAME": agent,
        "ESCUTA_STT_PROVIDERS": '["local"]',
        "ESCUTA_STT_LANGUAGE": "en",
        "ESCUTA_WORKER_HTTP_PORT": "0",  # several workers (and tests) on one machine
        "ESCUTA_WORKER_LOAD_THRESHOLD": "1000",  # a busy 2-core box must not make it refuse the job
        "ESCUTA_WORKER_NUM_IDLE_PROCESSES": "1",
    }
    if failed_audio_dir is not None:
        env["ESCUTA_TRANSCRIPTION_FAILED_AUDIO_DIR"] = str(failed_audio_dir)
    return env | dict(extra or {})


def escuta_worker(
    server: LiveKitServer, log_path: Path, agent: str, env: dict[str, str]
) -> contextlib.AbstractAsyncContextManager[subprocess.Popen[bytes]]:
    """`escuta worker` in its own process with ``env`` (see :func:`worker_env`), registered with ``server``
    as ``agent`` until the block ends; its output goes to ``log_path``."""
    return running_agent_worker(server, log_path, agent_name=agent, argv=WORKER_ARGV, env=env)


@contextlib.asynccontextmanager
async def api_on_veth(server: LiveKitServer, settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[str]:
    """The control API on our veth address, so the test server's webhooks reach it; yields its base URL."""
    async with api_at(server.host_ip, settings, pool) as base:
        yield base


@contextlib.asynccontextmanager
async def api_at(host: str, settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[str]:
    """The control API served by uvicorn on ``host`` (a free port) in this event loop; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    app = create_app(settings, pool=pool)
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", **server_limits(settings)))
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    while not uv.started:  # noqa: ASYNC110 (uvicorn offers no startup event)
        await asyncio.sleep(0.02)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        uv.should_exit = True
        await task
        sock.close()


async def speak(room: rtc.Room, audio: np.ndarray[Any, np.dtype[np.int16]]) -> str:
    """Publish `audio` (16 kHz mono) as a microphone track at real-time pace; returns the track sid."""
    source = rtc.AudioSource(SR, 1)
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    pub = await room.local_participant.publish_track(
        track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    )

    async def play() -> None:
        for frame in frames_from_array(audio, SR, 20):
            await source.capture_frame(frame)  # paces at real time (bounded queue)
        await source.wait_for_playout()

    task = asyncio.create_task(play())
    _keep.add(task)
    task.add_done_callback(_keep.discard)
    return pub.sid


_keep: set[asyncio.Task[None]] = set()


async def until(check: Callable[[], Awaitable[bool] | bool], within: float, what: str) -> None:
    """Wait for a condition (sync or async); a timeout names what never happened."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if await result if asyncio.iscoroutine(result) else result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"waited {within:.0f}s for {what}")
        await asyncio.sleep(0.2)
