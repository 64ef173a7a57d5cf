"""The embedded server shared by several processes: stopped only when the last one is gone."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.test_escuta_run import _alive, _postmaster_pid, _wait_gone

HOLDER = """
import sys, time
from pathlib import Path
from db.embedded import start_embedded
emb = start_embedded(Path(sys.argv[1]))
print(emb.dsn, flush=True)
sys.stdin.read()  # hold the server until our stdin closes (or we are killed)
emb.stop()
"""


def _holder(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout is not None
    dsn = proc.stdout.readline().strip()
    assert dsn.startswith("postgresql://"), dsn
    return proc, dsn


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("escuta-shared") / "state"


async def test_shared_server_survives_one_user_crashing(data_dir: Path) -> None:
    a, dsn = _holder(data_dir)
    b, dsn_b = _holder(data_dir)
    assert dsn == dsn_b, "both processes use the same server"
    pid = _postmaster_pid(data_dir / "pgdata")
    assert pid is not None
    try:
        os.kill(a.pid, signal.SIGKILL)
        a.wait()
        await asyncio.sleep(2)  # several watchdog intervals
        assert _alive(pid), "the server must keep running while another process uses it"
        conn = await asyncpg.connect(dsn)
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()
    finally:
        os.kill(b.pid, signal.SIGKILL)
        b.wait()
    assert _wait_gone(pid), "once every user is gone, the watchdog stops the server"
