"""`escuta run`: its children (API, worker, job scheduler); embedded PostgreSQL that persists and is cleaned up."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import flat_fields
from escuta.supervisor import child_commands
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET
from tests.webhook_signing import event_body, sign

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESCUTA_", "LIVEKIT_"))}
    env.update(
        ESCUTA_DATA_DIR=str(data_dir),
        ESCUTA_API_PORT=str(port),
        LIVEKIT_API_KEY=TEST_LK_KEY,
        LIVEKIT_API_SECRET=TEST_LK_SECRET,
        ESCUTA_ADMIN_TOKEN="run-admin",
    )
    return env


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "escuta.cli", "run", "--no-worker"],
        cwd=data_dir.parent,
        env=_env(data_dir, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"escuta run exited early: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("escuta run did not become ready")


def _postmaster_pid(pgdata: Path) -> int | None:
    f = pgdata / "postmaster.pid"
    return int(f.read_text().splitlines()[0]) if f.exists() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _wait_gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def run_dir() -> Iterator[Path]:
    # Outside any home directory: pgserver, as root, opens up the parent folders of its data dir. Not
    # under pytest's basetemp either: another pytest session closes that back to 0700 (and prunes old
    # runs), after which PostgreSQL, running as its own user, can no longer reach its data directory.
    base = Path(tempfile.mkdtemp(prefix="escuta-run-"))
    yield base / "state"
    shutil.rmtree(base, ignore_errors=True)


def test_run_starts_the_job_scheduler_as_a_child() -> None:
    children = {c.name: c.argv for c in child_commands(with_worker=True)}
    assert list(children) == ["api", "worker", "jobs"]
    assert children["jobs"] == [sys.executable, "-m", "escuta.cli", "jobs"]
    assert [c.name for c in child_commands(with_worker=False)] == ["api", "jobs"]
    # ESCUTA_SCHEDULER_ENABLED=false is the only way to leave it out; by default ingestion runs every 180 s.
    fields = flat_fields()
    assert fields["scheduler_enabled"].info.default is True
    assert fields["clips_ingestion_interval_seconds"].info.default == 180
    assert [c.name for c in child_commands(with_worker=False, with_jobs=False)] == ["api"]


def _parent_pid(pid: int) -> int:
    # /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after its ")".
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _wait_scheduler(port: int, headers: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    """`/health/worker` once `escuta run`'s scheduler heartbeats and has run the ingestion job once."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = httpx.get(f"http://127.0.0.1:{port}/health/worker", headers=headers, timeout=2)
        body = r.json()
        jobs = {j["name"]: j for j in body["jobs"]}
        if r.status_code == 200 and jobs.get("clips.ingest", {}).get("last_status") in ("ok", "error"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"escuta run's job scheduler did not report in: {body}")


def test_embedded_database_persists_and_survives_a_crash(run_dir: Path) -> None:
    port = _free_port()
    body = event_body("room_started", room_sid="RM_persist", room_name="kept", created_at=1_763_712_000)
    headers = {"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    admin = {"Authorization": "Bearer run-admin"}

    proc = _start(run_dir, port)
    try:
        _wait_ready(port, proc)
        pgdata = run_dir / "pgdata"
        assert (pgdata / "PG_VERSION").exists(), "no URL was set, so the embedded server must be used"
        pg_pid = _postmaster_pid(pgdata)
        assert pg_pid is not None and _alive(pg_pid)
        r = httpx.post(f"http://127.0.0.1:{port}/livekit/webhook", content=body, headers=headers)
        assert r.status_code == 200, r.text
        # The job scheduler runs inside `escuta run` (a child process), ingestion every 180 s by default.
        health = _wait_scheduler(port, admin)  # the platform admin sees instance ids (host:pid:nonce)
        assert health["scheduler"]["alive"] is True
        leader_pid = int(health["scheduler"]["leader"].split(":")[1])  # instance ids are host:pid:nonce
        assert _parent_pid(leader_pid) == proc.pid
        ingest = next(j for j in health["jobs"] if j["name"] == "clips.ingest")
        assert ingest["interval_seconds"] == 180
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert _wait_gone(pg_pid), "a clean stop stops the embedded server"
    assert not _alive(leader_pid), "the scheduler child stops with escuta run"

    # Restart: the session written before is still there.
    proc = _start(run_dir, port)
    try:
        _wait_ready(port, proc)
        r = httpx.get(f"http://127.0.0.1:{port}/sessions/RM_persist", headers=admin)
        assert r.status_code == 200 and r.json()["roomName"] == "kept"
        pg_pid = _postmaster_pid(pgdata)
        assert pg_pid is not None
        handles = json.loads((pgdata / ".handle_pids.json").read_text())
        assert proc.pid in handles
    finally:
        # A crash: nothing of ours gets to run a shutdown hook.
        proc.kill()
        proc.wait()
    assert _wait_gone(pg_pid), "the watchdog stops the server of a crashed owner"

    # And after the crash the next run starts cleanly on the same data.
    proc = _start(run_dir, port)
    try:
        _wait_ready(port, proc)
        r = httpx.get(f"http://127.0.0.1:{port}/sessions/RM_persist", headers=admin)
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
