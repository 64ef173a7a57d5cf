"""`escuta run` with no database URL: embedded PostgreSQL that persists, and is cleaned up after a crash."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Outside any home directory: pgserver, as root, opens up the parent folders of its data dir.
    base = tmp_path_factory.mktemp("escuta-run")
    yield base / "state"


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
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert _wait_gone(pg_pid), "a clean stop stops the embedded server"

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
