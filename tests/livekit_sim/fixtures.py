"""pytest fixtures for the LiveKit test server (registered in tests/conftest.py via `pytest_plugins`).

    @pytest.mark.livekit
    async def test_x(livekit_server: LiveKitServer) -> None:
        room = await connect(livekit_server, "alice", livekit_server.room_name("x"))

`livekit_server` is session-scoped: one server per pytest run, in its own network namespace. Use a
fresh room name per test (`room_name()`), and undo any webhook URL you add (`webhooks_to()` does).
Where the namespace cannot be created (not root), every test using it fails with one line saying why.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from livekit import api

from .netns import NamespacedServer, NamespaceError, start_in_namespace

LIVEKIT_SIM_API_KEY = "APIlivekitsim"
# The versions this server was verified against (pinned in pyproject.toml). The SDK's signalling is
# in its Rust core, so another version may speak a protocol this server does not: re-verify first.
TESTED_WITH = {
    "livekit": "1.1.21",
    "livekit-api": "1.2.2",
    "livekit-protocol": "1.1.29",
    "livekit-agents": "1.8.9",
    "aiortc": "1.16.0",
}
# Short by default so tests do not wait; tokens and CreateRoom can still set their own.
SIM_DEPARTURE_TIMEOUT = 2
SIM_EMPTY_TIMEOUT = 30


@dataclass
class LiveKitServer:
    """A running test server, as tests see it."""

    url: str  # ws://<server_ip>:<port>, what LIVEKIT_URL would be
    api_key: str
    api_secret: str
    host_ip: str  # our end of the veth: bind local HTTP servers (webhook receivers) here
    server_ip: str
    log_path: Path
    _webhook_urls: list[str] = field(default_factory=list)

    @property
    def http_url(self) -> str:
        return "http" + self.url[2:]

    def env(self) -> dict[str, str]:
        """LIVEKIT_* variables for a subprocess (an `escuta worker`, an AgentServer)."""
        return {"LIVEKIT_URL": self.url, "LIVEKIT_API_KEY": self.api_key, "LIVEKIT_API_SECRET": self.api_secret}

    def room_name(self, prefix: str = "room") -> str:
        return f"{prefix}-{secrets.token_hex(4)}"

    def token(
        self,
        identity: str,
        room: str,
        *,
        name: str = "",
        metadata: str = "",
        attributes: dict[str, str] | None = None,
        agents: list[str | api.RoomAgentDispatch] | None = None,
        room_config: api.RoomConfiguration | None = None,
        grants: api.VideoGrants | None = None,
        kind: str = "",
        ttl: datetime.timedelta = datetime.timedelta(minutes=10),
    ) -> str:
        """A join token. `agents` (names, or RoomAgentDispatch with metadata) are dispatched when this
        join creates the room."""
        tok = (
            api.AccessToken(self.api_key, self.api_secret)
            .with_identity(identity)
            .with_ttl(ttl)
            .with_grants(
                grants or api.VideoGrants(room_join=True, room=room, can_update_own_metadata=True, can_publish=True)
            )
        )
        if name:
            tok.with_name(name)
        if metadata:
            tok.with_metadata(metadata)
        if attributes:
            tok.with_attributes(attributes)
        if kind:
            tok.with_kind(kind)  # type: ignore[arg-type]
        if agents is not None or room_config is not None:
            cfg = room_config or api.RoomConfiguration()
            for a in agents or []:
                cfg.agents.append(api.RoomAgentDispatch(agent_name=a) if isinstance(a, str) else a)
            tok.with_room_config(cfg)
        return tok.to_jwt()

    def api(self) -> api.LiveKitAPI:
        """A livekit-api client; use it as `async with server.api() as lk:`."""
        return api.LiveKitAPI(self.http_url, self.api_key, self.api_secret)

    # --- test-only control routes -------------------------------------------------------------------

    def _admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        token = api.AccessToken(self.api_key, self.api_secret).to_jwt()
        req = urllib.request.Request(
            f"{self.http_url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def set_webhook_urls(self, urls: list[str]) -> None:
        self._webhook_urls = list(urls)
        self._admin("POST", "/_sim/webhooks", {"urls": self._webhook_urls})

    def add_webhook_url(self, url: str) -> None:
        self.set_webhook_urls([*self._webhook_urls, url])

    def remove_webhook_url(self, url: str) -> None:
        self.set_webhook_urls([u for u in self._webhook_urls if u != url])

    @contextlib.contextmanager
    def webhooks_to(self, url: str) -> Iterator[None]:
        self.add_webhook_url(url)
        try:
            yield
        finally:
            self.remove_webhook_url(url)

    def state(self) -> dict[str, Any]:
        """Rooms, participants and registered workers, as the server sees them (for debugging)."""
        result: dict[str, Any] = self._admin("GET", "/_sim/state")
        return result

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def livekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKitServer]:
    drift = [f"{pkg}=={version(pkg)} (tested: {want})" for pkg, want in TESTED_WITH.items() if version(pkg) != want]
    if drift:
        pytest.fail(f"LiveKit test server not verified with {', '.join(drift)}", pytrace=False)
    log_path = tmp_path_factory.mktemp("livekit_sim") / "server.log"
    secret = secrets.token_hex(24)
    ns: NamespacedServer | None = None
    why = ""
    try:
        ns = start_in_namespace(
            api_key=LIVEKIT_SIM_API_KEY,
            api_secret=secret,
            log_path=log_path,
            extra_args=[
                "--departure-timeout",
                str(SIM_DEPARTURE_TIMEOUT),
                "--empty-timeout",
                str(SIM_EMPTY_TIMEOUT),
                "--log-level",
                os.environ.get("LIVEKIT_SIM_LOG_LEVEL", "INFO"),
            ],
        )
    except NamespaceError as exc:
        why = str(exc)
    if ns is None:  # outside the except block, so the report is this one line and no traceback chain
        pytest.fail(f"LiveKit test server unavailable: {why}", pytrace=False)
    try:
        yield LiveKitServer(
            url=f"ws://{ns.server_ip}:{ns.port}",
            api_key=LIVEKIT_SIM_API_KEY,
            api_secret=secret,
            host_ip=ns.host_ip,
            server_ip=ns.server_ip,
            log_path=log_path,
        )
    finally:
        ns.stop()
