"""Run agent workers (livekit-agents AgentServers) as subprocesses against the test server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

from .fixtures import LiveKitServer
from .netns import REPO_ROOT


def wait_for_worker(
    server: LiveKitServer, agent_name: str, *, timeout: float = 30, proc: subprocess.Popen[bytes] | None = None
) -> str:
    """Block until a worker registered under `agent_name` ("" = automatic dispatch); returns its id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for w in server.state()["workers"]:
            if w["agent_name"] == agent_name:
                return str(w["id"])
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"agent worker exited with {proc.returncode}")
        time.sleep(0.1)
    raise TimeoutError(f"no worker registered as {agent_name!r} within {timeout:.0f}s")


@contextlib.contextmanager
def agent_worker(
    server: LiveKitServer,
    log_path: Path,
    *,
    agent_name: str = "",
    argv: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start an agent worker process (by default tests/livekit_sim/agent_app.py), wait until it has
    registered, and stop it (SIGTERM, then SIGKILL) afterwards. Its output goes to `log_path`."""
    cmd = list(argv or [sys.executable, "-c", "from tests.livekit_sim.agent_app import main; main()"])
    full_env = {
        **os.environ,
        **server.env(),
        "SIM_AGENT_NAME": agent_name,
        "PYTHONPATH": str(REPO_ROOT),
        **(env or {}),
    }
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_worker(server, agent_name, timeout=timeout, proc=proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@contextlib.asynccontextmanager
async def running_agent_worker(
    server: LiveKitServer,
    log_path: Path,
    *,
    agent_name: str = "",
    argv: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
    register_within: float = 30,
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`agent_worker` for async tests: waits and stops in a thread, so connected rooms keep running."""
    cm = agent_worker(server, log_path, agent_name=agent_name, argv=argv, env=env, timeout=register_within)
    proc = await asyncio.to_thread(cm.__enter__)
    try:
        yield proc
    finally:
        await asyncio.to_thread(cm.__exit__, None, None, None)
