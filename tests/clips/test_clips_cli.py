"""`escuta clips import` as a user runs it: exit codes, the error report, dry run, re-import."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import asyncpg

from tests.clips.factories import make_org
from tests.clips.test_csv_import import CLIPS, STREAMERS

ROOT = Path(__file__).resolve().parents[2]


async def _escuta(
    database_url: str, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCUTA_")}
    env.update(ESCUTA_DATABASE_URL=database_url, PYTHONPATH=str(ROOT), **(extra_env or {}))
    cmd = [sys.executable, "-m", "escuta.cli", *args]
    return await asyncio.to_thread(subprocess.run, cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


async def test_cli_import(db_pool: asyncpg.Pool, database_url: str, tmp_path: Path) -> None:
    org: UUID = await make_org(db_pool)
    streamers, clips, bad = tmp_path / "streamers.csv", tmp_path / "clipes.csv", tmp_path / "bad.csv"
    streamers.write_text(STREAMERS)
    clips.write_text(CLIPS)
    bad.write_text(CLIPS + "c9,100,not-a-date,1,,t,1\n")
    base = ["clips", "import", "--org", str(org), "--streamers", str(streamers)]

    r = await _escuta(database_url, *base, "--clips", str(bad))
    assert r.returncode == 1
    assert "bad.csv:6: created_at: not an ISO-8601 date/time" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("escuta: 1 invalid row(s); nothing was imported")
    assert await db_pool.fetchval("SELECT count(*) FROM streamers") == 0

    r = await _escuta(database_url, *base, "--clips", str(clips), "--dry-run")
    assert r.returncode == 0 and "dry run, nothing written" in r.stdout
    assert await db_pool.fetchval("SELECT count(*) FROM clips") == 0

    r = await _escuta(database_url, *base, "--clips", str(clips))
    assert r.returncode == 0, r.stderr
    assert "clips 4 new / 0 updated, bursts 1 new" in r.stdout
    r = await _escuta(database_url, *base, "--clips", str(clips))
    assert "streamers 0 new / 2 updated, clips 0 new / 0 updated, bursts 0 new / 0 grown" in r.stdout

    r = await _escuta(database_url, "clips", "import", "--org", "nope", "--clips", str(clips))
    assert r.returncode == 1 and r.stderr.strip() == "escuta: --org must be an organization id (UUID), not 'nope'"


async def test_cli_import_shows_progress(db_pool: asyncpg.Pool, database_url: str, tmp_path: Path) -> None:
    org: UUID = await make_org(db_pool)
    streamers, clips = tmp_path / "streamers.csv", tmp_path / "clipes.csv"
    streamers.write_text(STREAMERS)
    rows = [f"k{i},100,2026-05-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z,1,,t,30" for i in range(2500)]
    clips.write_text("\n".join([CLIPS.splitlines()[0], *rows]) + "\n")
    args = ["clips", "import", "--org", str(org), "--streamers", str(streamers), "--clips", str(clips)]

    # The bar is drawn for a terminal (TTY_COMPATIBLE=1 makes rich treat the captured stdout as one) and
    # cleared when done, leaving only the summary on screen.
    term = {"TTY_COMPATIBLE": "1", "TERM": "xterm-256color", "COLUMNS": "100"}
    r = await _escuta(database_url, *args, extra_env=term)
    assert r.returncode == 0, r.stderr
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", r.stdout)
    bars = [line.split() for line in screen.splitlines() if line.startswith(("streamers ", "clips "))]
    assert ("streamers", "2/2") in {(b[0], b[2]) for b in bars}  # description, bar, done/total, elapsed
    assert ("clips", "2500/2500") in {(b[0], b[2]) for b in bars}
    assert screen.strip().splitlines()[-1].startswith("imported streamers 2 new / 0 updated, clips 2500 new")

    # Piped into a file or another program, nothing but the summary.
    r = await _escuta(database_url, *args, extra_env={"TTY_COMPATIBLE": "0"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines() == [
        "imported streamers 0 new / 2 updated, clips 0 new / 0 updated, bursts 0 new / 0 grown"
    ]
