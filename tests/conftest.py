"""Shared fixtures: a real PostgreSQL database per run, a clean state per test, the control API app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from control_api.app import create_app
from core.settings import Settings
from db.migrate import migrate_dsn
from db.pool import create_pool
from tests.pg import admin_dsn, create_database, drop_database, truncate_all

# The LiveKit test server fixture (`livekit_server`), usable from any test; see tests/livekit_sim/README.md.
pytest_plugins = ["tests.livekit_sim.fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests through the LiveKit test server get one retry, and only they do.

    They run real WebRTC through an aiortc relay that decodes and re-encodes every stream, agent
    worker processes and Whisper, at real-time pace on two shared cores: a scheduling stall there can
    cost a syllable or a deadline that no code change controls. A retry is printed (`R` in the
    progress line, "rerun" in the summary), so a test that starts failing for real still fails, and
    one that needs its retry often shows up in the log. (The two CI failures these tests had so far
    were real: a test asserting the last syllable before a room was deleted, and a payload window
    running 7 ms past its `ts`; both were fixed, not retried away.)
    """
    for item in items:
        if item.get_closest_marker("livekit") is not None:
            # Under `-n 2 --dist loadgroup` (.ci/run) they run one after another on one worker: real-time
            # media next to a second real-time test on two cores would be measuring the machine.
            item.add_marker(pytest.mark.xdist_group("livekit"))
            if item.get_closest_marker("flaky") is None:
                item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """CLI tests run `escuta` in-process (typer's CliRunner), whose `setup_logging` puts a handler on the
    runner's (soon closed) stream and lowers the root level: undo both, so no later test depends on it."""
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    yield
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler and handler not in before:  # not pytest's own handlers
            root.removeHandler(handler)
    root.setLevel(level)


TEST_LK_KEY = "devkey"
TEST_LK_SECRET = "test-secret-0123456789abcdef0123456789"
# What ESCUTA_LIVEKIT_PUBLIC_URL is in tests: a global address literal, so the public-URL check needs no
# DNS; nothing ever connects to it (the LiveAvatar stub checks it is what it was handed, and never joins).
TEST_LK_PUBLIC_URL = "wss://1.2.3.4"
TEST_ADMIN_TOKEN = "test-admin-token"


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    dsn, embedded = admin_dsn()
    yield dsn
    # An embedded server is stopped by its watchdog when this process exits.
    del embedded


@pytest.fixture(scope="session")
async def database_url(pg_admin_dsn: str) -> AsyncIterator[str]:
    """A fresh database for this test run, with every migration applied."""
    dsn = await create_database(pg_admin_dsn)
    await migrate_dsn(dsn)
    yield dsn
    await drop_database(pg_admin_dsn, dsn)


@pytest.fixture(scope="session")
async def _session_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
async def db_pool(_session_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    """The run's pool, with every table emptied before the test (tests can run in any order)."""
    async with _session_pool.acquire() as conn:
        await truncate_all(conn)
    yield _session_pool


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "livekit_api_key": TEST_LK_KEY,
        "livekit_api_secret": TEST_LK_SECRET,
        "livekit_public_url": TEST_LK_PUBLIC_URL,
        "admin_token": TEST_ADMIN_TOKEN,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
async def client(settings: Settings, db_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, pool=db_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
