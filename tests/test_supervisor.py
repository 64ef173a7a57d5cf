"""`escuta run`'s supervisor with its real children: every child starts, a crashed one is restarted,
Ctrl-C and SIGTERM stop them all, and `--no-worker` leaves the agent worker out.

These run the real `escuta run` against a configured database (a fresh, unmigrated one on the test
server, so the supervisor's own migration step shows) and inspect the real process tree; nothing is
mocked. The embedded-database path is covered by tests/test_escuta_run.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import psutil
import pytest

from db.migrate import load_migrations
from escuta.supervisor import child_commands
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET
from tests.pg import create_database, drop_database

T = TypeVar("T")
ALL_CHILDREN = {"api", "worker", "jobs"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _gone(p: psutil.Process) -> bool:
    try:
        return not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _children(supervisor_pid: int) -> dict[str, psutil.Process]:
    """The supervisor's live direct children by role (`python -m escuta.cli <role>`)."""
    found: dict[str, psutil.Process] = {}
    for p in psutil.Process(supervisor_pid).children():
        try:
            argv = p.cmdline()
        except psutil.NoSuchProcess:
            continue
        if argv[1:3] == ["-m", "escuta.cli"] and len(argv) == 4 and not _gone(p):
            assert argv[3] not in found, f"two {argv[3]} children at once"
            found[argv[3]] = p
    return found


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


class Run:
    """One `escuta run` in its own session (so a Ctrl-C to its process group reaches only it)."""

    def __init__(self, tmp: Path, dsn: str, *args: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]  # nothing listens here: the worker keeps retrying LiveKit
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ESCUTA_", "LIVEKIT_"))}
        env.update(
            ESCUTA_DATABASE_URL=dsn,
            ESCUTA_API_PORT=str(self.port),
            ESCUTA_WORKER_HTTP_PORT="0",
            ESCUTA_DATA_DIR=str(tmp / "state"),
            ESCUTA_ADMIN_TOKEN="run-admin",
            LIVEKIT_URL=f"ws://127.0.0.1:{closed_port}",
            LIVEKIT_API_KEY=TEST_LK_KEY,
            LIVEKIT_API_SECRET=TEST_LK_SECRET,
        )
        self.log = tmp / "escuta-run.log"
        with self.log.open("wb") as out:  # children inherit it: no pipe to fill up
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "escuta.cli", "run", *args],
                cwd=tmp,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_children(self, roles: set[str]) -> dict[str, psutil.Process]:
        def probe() -> dict[str, psutil.Process] | None:
            assert self.proc.poll() is None, "escuta run exited early:\n" + self.output()[-4000:]
            found = _children(self.proc.pid)
            return found if set(found) == roles else None

        return _wait_for(f"children {sorted(roles)}", probe)

    def wait_ready(self) -> None:
        _wait_for("the API to be ready", lambda: _ready(self.port) or None)

    def stop(self, how: str) -> tuple[int, list[psutil.Process]]:
        """Stop it (``ctrl-c``: SIGINT to the whole process group, as a terminal does; ``sigterm``: the
        supervisor alone, as a service manager does). Returns its exit code and what ran under it."""
        tree = psutil.Process(self.proc.pid).children(recursive=True)
        if how == "ctrl-c":
            os.killpg(self.proc.pid, signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=40)
        return code, tree

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def fresh_db(pg_admin_dsn: str) -> Iterator[str]:
    dsn = asyncio.run(create_database(pg_admin_dsn, prefix="escuta_run"))
    yield dsn
    asyncio.run(drop_database(pg_admin_dsn, dsn))


async def _applied_versions(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r["version"] for r in await conn.fetch("SELECT version FROM escuta_migrations ORDER BY 1")]
    finally:
        await conn.close()


def _assert_all_gone(tree: list[psutil.Process], output: str) -> None:
    left = _wait_for("every child to exit", lambda: [p for p in tree if not _gone(p)] == [] or None, timeout=20)
    assert left, "processes left behind:\n" + output[-4000:]


def test_default_children_include_the_worker_and_jobs() -> None:
    me = [sys.executable, "-m", "escuta.cli"]
    assert [(c.name, c.argv) for c in child_commands(with_worker=True)] == [
        ("api", [*me, "api"]),
        ("worker", [*me, "worker"]),
        ("jobs", [*me, "jobs"]),
    ]
    assert [c.name for c in child_commands(with_worker=False)] == ["api", "jobs"]
    assert [c.name for c in child_commands(with_worker=True, with_jobs=False)] == ["api", "worker"]


def test_run_starts_every_child_restarts_a_crashed_one_and_stops_on_ctrl_c(tmp_path: Path, fresh_db: str) -> None:
    run = Run(tmp_path, fresh_db)
    try:
        first = run.wait_children(ALL_CHILDREN)
        run.wait_ready()
        # The supervisor migrated the empty database before starting the children.
        assert asyncio.run(_applied_versions(fresh_db)) == [m.version for m in load_migrations()]
        before = {role: p.pid for role, p in first.items()}

        # A crash (SIGKILL: nothing of the child's own runs) of the API and of the job runner.
        first["api"].kill()
        first["jobs"].kill()

        def restarted() -> dict[str, psutil.Process] | None:
            now = _children(run.proc.pid)
            fresh = set(now) == ALL_CHILDREN and all(now[r].pid != before[r] for r in ("api", "jobs"))
            return now if fresh else None

        after = _wait_for("api and jobs to be restarted", restarted)
        assert after["api"].pid != before["api"] and after["jobs"].pid != before["jobs"]
        assert after["worker"].pid == before["worker"], "a healthy child is left alone"
        run.wait_ready()  # the restarted API serves again
        out = run.output()
        assert "api exited with code -9; restarting" in out and "jobs exited with code -9; restarting" in out

        code, tree = run.stop("ctrl-c")
        assert code == 0, run.output()[-4000:]
        _assert_all_gone(tree, run.output())
        assert {p.pid for p in tree} >= {p.pid for p in after.values()}
        assert "Escuta stopped" in run.output()
        # The terminal's SIGINT reached the supervisor only, and each child got one SIGTERM: a second
        # signal makes livekit-agents exit at once, without closing the jobs it was running.
        assert "exiting forcefully" not in run.output()
        assert not _ready(run.port)
    finally:
        run.kill()


def test_run_no_worker_and_sigterm(tmp_path: Path, fresh_db: str) -> None:
    run = Run(tmp_path, fresh_db, "--no-worker")
    try:
        children = run.wait_children({"api", "jobs"})
        run.wait_ready()
        time.sleep(1.0)  # the supervisor's loop has run: still no worker
        assert set(_children(run.proc.pid)) == {"api", "jobs"}

        code, tree = run.stop("sigterm")  # only the supervisor is signalled; it stops its children
        assert code == 0, run.output()[-4000:]
        _assert_all_gone(tree, run.output())
        assert {p.pid for p in tree} >= {p.pid for p in children.values()}
        out = run.output()
        assert "Escuta stopped" in out and "restarting" not in out  # stopped children are not restarted
        assert "started worker" not in out
    finally:
        run.kill()
