"""The console's Try it view end to end: Chromium's fake microphone, fed from an espeak-ng recording, joins
a room on the LiveKit test server through livekit-client (shipped with the page); the token comes from
`/token` with the signed-in session, the real `escuta worker` is dispatched, and its transcripts
(`lk.transcription`) appear on the page.

Chromium reaches the test server over its veth address (WebRTC ignores loopback), so the API is served
there too, and Chromium is told to treat that origin as secure (getUserMedia needs a secure context;
127.0.0.1 is one, a veth address is not). Media is relayed by the test server's aiortc (see
tests/livekit_sim/README.md, "What differs"): this proves what the page and Escuta do, not LiveKit's
media path."""

from __future__ import annotations

import secrets
import wave
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import async_playwright

from tests.accounts.helpers import PASSWORD, put_solution, register
from tests.console.conftest import CHROMIUM
from tests.e2e import api_on_veth, escuta_worker, room_settings, worker_env
from tests.livekit_sim.fixtures import LiveKitServer
from tests.transcription.speech import SCRIPT_EN, SR, recording

pytestmark = pytest.mark.livekit


def write_wav(path: Path, texts: list[str]) -> None:
    audio = recording(texts).audio
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(audio.tobytes())


async def test_try_it_joins_a_room_from_the_browser_and_shows_the_agents_transcript(
    livekit_server: LiveKitServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path, shots: Path
) -> None:
    agent = f"escuta-try-{secrets.token_hex(3)}"
    settings = room_settings(livekit_server, database_url, agent, livekit_public_url=livekit_server.url)
    wav = tmp_path / "speech.wav"
    write_wav(wav, SCRIPT_EN[:2])
    env = worker_env(database_url, agent, failed_audio_dir=tmp_path / "failed")
    async with (
        api_on_veth(livekit_server, settings, db_pool) as base,
        httpx.AsyncClient(base_url=base) as http,
        escuta_worker(livekit_server, tmp_path / "worker.log", agent, env),
        async_playwright() as pw,
    ):
        org = await register(http, "Experimente")
        await put_solution(http, org, "Meet", "transcription")
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={wav}",
                f"--unsafely-treat-insecure-origin-as-secure={base}",
            ],
        )
        try:
            page = await browser.new_page()
            await page.goto(base + "/console/login")
            await page.fill("#email", org.email)
            await page.fill("#password", PASSWORD)
            await page.click("form[action='/console/login'] button[type=submit]")
            await page.wait_for_url(base + "/console/")
            await page.click("nav >> text=Experimente")
            await page.wait_for_url("**/console/try")
            await page.select_option("#try-solution", "Meet")
            await page.click("#try-join")
            await page.wait_for_selector("#try-status[data-room]", timeout=30_000)
            await page.wait_for_selector("#try-agent[data-present=yes]", timeout=60_000)
            line = page.locator("#try-transcript .utt .text")
            await line.first.wait_for(timeout=120_000)
            heard = " ".join(await line.all_inner_texts()).lower()
            assert any(word in heard for word in ("morning", "meeting", "numbers", "quarter")), heard
            await page.screenshot(path=str(shots / "try-it.png"), full_page=True)
            await page.click("#try-leave")
            await page.wait_for_selector("#try-status:not([data-room])", state="attached", timeout=10_000)
        finally:
            await browser.close()
