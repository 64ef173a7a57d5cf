"""The console's test fixtures: one real API server (uvicorn, in this event loop) and one headless Chromium
per module (Debian's, driven by Playwright; no browser download). Screenshots go to tests/output/console/
(git-ignored) so a reviewer can open them after a run."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from control_api.app import create_app
from tests.accounts.helpers import PASSWORD
from tests.conftest import make_settings

CHROMIUM = os.environ.get("ESCUTA_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "output" / "console"


@dataclass
class Server:
    url: str
    app: Any
    pool: asyncpg.Pool
    http: httpx.AsyncClient


@pytest.fixture(scope="module")
async def console_server(database_url: str, _session_pool: asyncpg.Pool) -> AsyncIterator[Server]:
    settings = make_settings(database_url=database_url)
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


@pytest.fixture(scope="module")
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


@dataclass
class Account:
    org_id: str
    email: str
    access: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def new_account(http: httpx.AsyncClient, name: str = "Farmácia Central") -> Account:
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    r = await http.post(
        "/auth/register", json={"email": email, "password": PASSWORD, "organizationName": name, "name": "Ana"}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return Account(body["organization"]["id"], email, body["accessToken"])


async def signed_in_page(browser: Any, server: Server, account: Account, *, width: int = 1280) -> Any:
    context = await browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = await context.new_page()
    await page.goto(server.url + "/")
    assert page.url.endswith("/console/login")
    await page.fill("#email", account.email)
    await page.fill("#password", PASSWORD)
    await page.click("form[action='/console/login'] button[type=submit]")
    await page.wait_for_url(server.url + "/console/")
    return page
