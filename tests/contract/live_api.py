"""A real `escuta api` process for contract tests: uvicorn on a free port, the test database, and
credentials of every kind for two organizations, made through the API itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import TEST_ADMIN_TOKEN, TEST_LK_KEY, TEST_LK_PUBLIC_URL, TEST_LK_SECRET

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
ORIGIN = "http://localhost:5173"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Tenant:
    """One organization and a credential of each kind that acts for it."""

    org_id: str
    user_id: str
    access: str
    device_key: str
    device_id: str
    publishable_key: str

    def user(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    def device(self) -> dict[str, str]:
        return {"X-API-Key": self.device_key}

    def browser(self) -> dict[str, str]:
        return {"X-API-Key": self.publishable_key, "Origin": ORIGIN}


@dataclass
class LiveApi:
    base_url: str
    tenants: list[Tenant] = field(default_factory=list)

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


def api_env(database_url: str, port: int, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESCUTA_", "LIVEKIT_"))}
    unlimited = "1000000/minute"  # the fuzzer is one client sending thousands of requests
    env.update(
        ESCUTA_DATABASE_URL=database_url,
        ESCUTA_API_PORT=str(port),
        ESCUTA_DATA_DIR=str(data_dir),
        ESCUTA_ADMIN_TOKEN=TEST_ADMIN_TOKEN,
        ESCUTA_LOG_LEVEL="WARNING",
        LIVEKIT_API_KEY=TEST_LK_KEY,
        LIVEKIT_API_SECRET=TEST_LK_SECRET,
        ESCUTA_LIVEKIT_PUBLIC_URL=TEST_LK_PUBLIC_URL,  # a platform configured for avatars (/new, /token)
        ESCUTA_RATE_LIMIT_LOGIN=unlimited,
        ESCUTA_RATE_LIMIT_LINK_CODE=unlimited,
        ESCUTA_RATE_LIMIT_LINK_CODE_FAILURES=unlimited,
        ESCUTA_RATE_LIMIT_LINK_CODE_GLOBAL_FAILURES=unlimited,
        ESCUTA_RATE_LIMIT_TOKEN=unlimited,
        # No provider is reachable from here: voice checks and transcription fail fast, never hang.
        ESCUTA_AVATAR_ELEVENLABS_BASE_URL="http://127.0.0.1:9/v1",
        ESCUTA_STT_PROVIDERS='["openai"]',
        ESCUTA_STT_OPENAI_BASE_URL="http://127.0.0.1:9/v1",
    )
    return env


def _wait_for(url: str, proc: subprocess.Popen[bytes], log_path: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200 within 60 s")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextmanager
def running_api(database_url: str, data_dir: Path, log_path: Path) -> Iterator[LiveApi]:
    """`escuta api`, and `escuta jobs` beside it as in a deployment, so `/health/worker` sees a live scheduler."""
    port = free_port()
    log = log_path.open("wb")
    env = api_env(database_url, port, data_dir)
    command = [sys.executable, "-m", "escuta.cli"]
    proc = subprocess.Popen([*command, "api"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    jobs: subprocess.Popen[bytes] | None = None
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/health/ready", proc, log_path, "escuta api")
        jobs = subprocess.Popen([*command, "jobs"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _wait_for(f"{base}/health/worker", jobs, log_path, "escuta jobs")
        yield LiveApi(base)
    finally:
        if jobs is not None:
            _stop(jobs)
        _stop(proc)
        log.close()


def make_tenant(client: httpx.Client, name: str) -> Tenant:
    """An organization with an owner, a counter solution, a registered device and a publishable key."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    client.post(
        "/auth/register", json={"email": email, "password": PASSWORD, "organizationName": name}
    ).raise_for_status()
    r = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    r.raise_for_status()
    access = r.json()["accessToken"]
    user = {"Authorization": f"Bearer {access}"}
    me = client.get("/auth/me", headers=user).json()
    org_id = me["organization"]["id"]
    client.put("/solutions/AiHelper", json={"profile": "balcao"}, headers=user).raise_for_status()
    code = client.post("/cadastro/codigo", headers=user).json()["codigo"]
    device = client.post("/cadastro/balcao", json={"nome_balcao": f"{name} 01", "user_codigo": code}).json()
    key = client.post("/keys/publishable", json={"name": "site", "allowedOrigins": [ORIGIN]}, headers=user)
    key.raise_for_status()
    return Tenant(
        org_id=org_id,
        user_id=me["id"],
        access=access,
        device_key=device["api_key"],
        device_id=device["balcao_id"],
        publishable_key=key.json()["key"],
    )
