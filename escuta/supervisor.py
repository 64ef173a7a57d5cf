"""`escuta run`: one command that brings up a whole local Escuta.

It owns the database (an embedded server when ``ESCUTA_DATABASE_URL`` is unset), applies migrations,
then runs each service as a child process (``escuta api``, ``escuta worker``, ...). A child that dies
is restarted with backoff; one that keeps dying stops the whole run with a non-zero exit. Ctrl-C or
SIGTERM stops the children first, then the database, so no process is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from core.settings import Settings
from db.migrate import migrate_dsn

log = logging.getLogger("escuta.run")

STOP_GRACE_SECONDS = 15.0
MAX_RESTARTS_PER_MINUTE = 5


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        # Each child leads its own process group: Ctrl-C in the terminal then reaches `escuta run` only,
        # which sends every child exactly one SIGTERM. Sharing the terminal's group, the worker got the
        # terminal's SIGINT and then our SIGTERM, and livekit-agents takes a second signal as "exit now",
        # cutting short the jobs it was closing (open utterances not flushed).
        self.proc = subprocess.Popen(self.argv, env=env, preexec_fn=_die_with_parent, process_group=0)
        log.info("started %s (pid %d)", self.name, self.proc.pid)


def _die_with_parent() -> None:
    # Linux: the kernel sends SIGTERM to the child if `escuta run` dies, even by SIGKILL, so a crashed
    # supervisor never leaves an API or worker running against a database that is going away.
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def child_commands(with_worker: bool, with_jobs: bool = True) -> list[Child]:
    me = [sys.executable, "-m", "escuta.cli"]
    children = [Child("api", [*me, "api"])]
    if with_worker:
        children.append(Child("worker", [*me, "worker"]))
    if with_jobs:
        children.append(Child("jobs", [*me, "jobs"]))
    return children


def _stop_children(children: list[Child]) -> None:
    for c in children:
        if c.proc is not None and c.proc.poll() is None:
            c.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for c in children:
        if c.proc is None:
            continue
        try:
            c.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", c.name, STOP_GRACE_SECONDS)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(c.proc.pid, signal.SIGKILL)  # its group: the worker's job processes too
            c.proc.wait()


def run_all(settings: Settings, *, with_worker: bool = True) -> int:
    embedded = None
    dsn = settings.db.url
    if not dsn:
        from db.embedded import start_embedded

        embedded = start_embedded(settings.data_dir)
        dsn = embedded.dsn
        log.info("embedded PostgreSQL running with data in %s", embedded.pgdata)

    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    children = child_commands(with_worker, settings.scheduler.enabled)
    code = 0
    try:
        applied = asyncio.run(migrate_dsn(dsn))
        log.info("database ready (%d migration(s) applied now)", len(applied))
        env = {**os.environ, "ESCUTA_DATABASE_URL": dsn}
        for c in children:
            c.start(env)
        log.info(
            "Escuta is running: API on http://%s:%d, web console at http://%s:%d/ (Ctrl-C stops everything)",
            settings.api.host,
            settings.api.port,
            "127.0.0.1" if settings.api.host in ("0.0.0.0", "::") else settings.api.host,
            settings.api.port,
        )
        while not stopping:
            time.sleep(0.5)
            for c in children:
                if c.proc is None or c.proc.poll() is None or stopping:
                    continue
                now = time.monotonic()
                c.restarts = [t for t in c.restarts if now - t < 60] + [now]
                if len(c.restarts) > MAX_RESTARTS_PER_MINUTE:
                    log.error("%s keeps exiting (code %s); stopping Escuta", c.name, c.proc.returncode)
                    stopping, code = True, 1
                    break
                log.warning("%s exited with code %s; restarting", c.name, c.proc.returncode)
                time.sleep(min(2 ** (len(c.restarts) - 1), 10))
                c.start(env)
    finally:
        _stop_children(children)
        if embedded is not None:
            embedded.stop()
        log.info("Escuta stopped")
    return code
