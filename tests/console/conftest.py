"""The console's test fixtures: one real API server (uvicorn, in this event loop) and one headless Chromium
(Debian's, driven by Playwright; no browser download), both shared by every browser test of the run: starting
them is most of a short test's time. Screenshots go to tests/output/console/ (git-ignored) so a reviewer can
open them after a run.

Each test makes its own organization (nothing it sees depends on another test). Signing in through the form
is tested once (`test_sign_in_and_a_live_room_...`); the other pages get the same cookies the form sets from
the token pair the account got from `/auth/login` (`signed_in_page`), which skips a page load and an Argon2
verification."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from control_api.app import create_app
from control_api.console.session import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE, new_csrf_token
from core.settings.accounts import RateLimitSettings
from tests.accounts.helpers import PASSWORD, Org
from tests.conftest import make_settings

CHROMIUM = os.environ.get("ESCUTA_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "output" / "console"


@dataclass
class Server:
    url: str
    app: Any
    pool: asyncpg.Pool
    http: httpx.AsyncClient


@pytest.fixture(scope="session")
async def console_server(database_url: str, _session_pool: asyncpg.Pool) -> AsyncIterator[Server]:
    # Every test signs in from 127.0.0.1: the per-address login budget is the rate-limit tests' business.
    settings = make_settings(database_url=database_url, rate_limit=RateLimitSettings(login="1000/minute"))
    app = create_app(settings, pool=_session_pool)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Server(url, app, _session_pool, http)
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `scripts/setup test` installs Debian's chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        await b.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


async def signed_in_page(
    browser: Any, server: Server, account: Org, *, width: int = 1280, path: str = "/console/"
) -> Any:
    """A fresh browser context holding the session cookies `/console/login` would set, open at ``path``."""
    context = await browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    cookies = {ACCESS_COOKIE: account.access, REFRESH_COOKIE: account.refresh, CSRF_COOKIE: new_csrf_token()}
    await context.add_cookies(
        [
            {"name": k, "value": v, "url": server.url, "httpOnly": k != CSRF_COOKIE, "sameSite": "Strict"}
            for k, v in cookies.items()
        ]
    )
    page = await context.new_page()
    await page.goto(server.url + path)
    return page


async def signed_in_by_form(browser: Any, server: Server, account: Org) -> Any:
    """Signing in as a person does: `/` sends to the form, which sets the cookies and lands on the live view."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(server.url + "/")
    assert page.url.endswith("/console/login")
    await page.fill("#email", account.email)
    await page.fill("#password", PASSWORD)
    await page.click("form[action='/console/login'] button[type=submit]")
    await page.wait_for_url(server.url + "/console/")
    return page
