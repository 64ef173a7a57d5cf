"""`escuta api` as a real process (uvicorn) for the fault tests: started, killed with SIGKILL, restarted."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from tests.contract.live_api import ROOT, api_env, free_port


def via_proxy(database_url: str, port: int) -> str:
    """The same database, reached through 127.0.0.1:``port`` (a Unix-socket ``host=`` is dropped)."""
    parts = urlsplit(database_url)
    user = parts.username or ""
    if parts.password:
        user += f":{parts.password}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in ("host", "port")])
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{port}" if user else f"127.0.0.1:{port}", query=query))


def target_of(database_url: str) -> tuple[str, int]:
    """Where the server listens: (host, port), or (socket directory, port) for the embedded server."""
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    port = int(query.get("port") or parts.port or 5432)
    return query.get("host") or parts.hostname or "127.0.0.1", port


class ApiProcess:
    def __init__(self, database_url: str, data_dir: Path, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = api_env(database_url, self.port, data_dir) | env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "escuta.cli", "api"], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )

    def wait_live(self, path: str = "/health", timeout: float = 60) -> None:
        """Until ``path`` answers 200 (liveness: the process serves, database or not)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"escuta api exited with {self.proc.returncode}: {self.log()[-2000:]}")
            try:
                if httpx.get(self.base_url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{path} did not answer 200 within {timeout} s: {self.log()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: nothing of the process's own clean-up runs."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
