"""First load of the web console's live view with 100 live rooms: bytes transferred and time to interactive.

    nice -n 10 .venv/bin/python -m bench.console --rooms 100

Starts the control API (uvicorn, in this process) on a scratch PostgreSQL database (embedded unless
ESCUTA_TEST_DATABASE_URL is set), registers an organization, opens N rooms through signed LiveKit webhooks
(each with a clerk publishing a microphone and an agent), signs in with Debian's headless Chromium and
loads `/console/` with an empty cache, several times. Reports the median over the runs of:

- transferred: bytes on the wire for the page and everything it loads (Chrome's encodedDataLength);
- interactive: navigation start to DOMContentLoaded's end (the deferred script has run, forms work);
- live: navigation start to the server-sent-events stream being open (the page updates itself).

Goals (issue 16): under 300 kB and under 1 s with 100 rooms. The same page with no room is measured in
the same run as the baseline, and the ratios printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

import httpx
import uvicorn
from playwright.async_api import async_playwright

from bench.accounts import sign_up
from control_api.app import create_app
from core.settings import Settings
from db.migrate import migrate_dsn
from db.pool import create_pool
from tests.pg import admin_dsn, create_database, drop_database
from tests.webhook_signing import event_body, sign

KEY, SECRET = "devkey", "bench-secret-0123456789abcdef0123456789"
PASSWORD = "correct horse battery staple"


async def webhook(http: httpx.AsyncClient, body: bytes) -> None:
    r = await http.post("/livekit/webhook", content=body, headers={"Authorization": sign(body, KEY, SECRET)})
    r.raise_for_status()


async def open_rooms(http: httpx.AsyncClient, headers: dict[str, str], org_id: str, n: int) -> None:
    (await http.put("/solutions/Loja", json={"profile": "counter"}, headers=headers)).raise_for_status()
    for i in range(n):
        r = await http.post(
            "/token", json={"solution": "Loja", "clientId": org_id, "userId": f"balcao{i:03d}"}, headers=headers
        )
        r.raise_for_status()
        room, sid = r.json()["room"], f"RM_bench_{i:03d}"
        clerk = {"sid": f"PA_c{i}", "identity": f"balcao-{i:03d}", "name": f"Balcão {i:03d}"}
        agent = {"sid": f"PA_a{i}", "identity": f"agent-{i}", "kind": 4}
        track = {"sid": f"TR_{i}", "type": 0, "source": 2, "name": "mic"}
        for body in (
            event_body("room_started", room_sid=sid, room_name=room),
            event_body("participant_joined", room_sid=sid, room_name=room, participant=clerk),
            event_body("participant_joined", room_sid=sid, room_name=room, participant=agent),
            event_body("track_published", room_sid=sid, room_name=room, participant=clerk, track=track),
        ):
            await webhook(http, body)


async def first_load(browser: Any, url: str, email: str) -> dict[str, float]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url + "/console/login")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("form[action='/console/login'] button[type=submit]")
    await page.wait_for_url(url + "/console/")
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.clearBrowserCache")
    sizes: dict[str, float] = {}
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    await page.goto(url + "/console/", wait_until="load")
    await page.wait_for_selector("#live-state:not(:empty)")
    live_at = await page.evaluate("performance.now()")
    timing = await page.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {dcl: n.domContentLoadedEventEnd, start: n.startTime}; })()"
    )
    await asyncio.sleep(0.2)  # the last loadingFinished events
    rooms = await page.locator(".room").count()
    await context.close()
    return {
        "bytes": sum(sizes.values()),
        "interactive_ms": timing["dcl"] - timing["start"],
        "live_ms": live_at - timing["start"],
        "rooms": rooms,
    }


async def measure(browser: Any, url: str, email: str, runs: int) -> dict[str, float]:
    results = [await first_load(browser, url, email) for _ in range(runs)]
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rooms", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    admin, _embedded = admin_dsn()
    dsn = await create_database(admin)
    try:
        await migrate_dsn(dsn)
        pool = await create_pool(dsn, min_size=1, max_size=10)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=dsn, livekit_api_key=KEY, livekit_api_secret=SECRET, admin_token="bench"
        )
        app = create_app(settings, pool=pool)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()  # it failed to start: raise why
            await asyncio.sleep(0.02)
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as http, async_playwright() as pw:
            email = f"bench-{uuid.uuid4().hex[:6]}@example.com"
            org_id, headers = await sign_up(http, email, PASSWORD, "Bench")
            browser = await pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            baseline = await measure(browser, url, email, args.runs)
            started = time.perf_counter()
            await open_rooms(http, headers, org_id, args.rooms)
            print(
                f"opened {args.rooms} rooms through {4 * args.rooms} webhooks in {time.perf_counter() - started:.1f} s"
            )
            loaded = await measure(browser, url, email, args.runs)
            await browser.close()
        server.should_exit = True
        await task
        await pool.close()
    finally:
        await drop_database(admin, dsn)
    print(f"live view, first load with an empty cache (median of {args.runs}):")
    print(f"{'':>12} {'rooms':>6} {'transferred':>12} {'interactive':>12} {'live (SSE)':>11}")
    for name, m in (("no room", baseline), (f"{args.rooms} rooms", loaded)):
        print(
            f"{name:>12} {m['rooms']:>6.0f} {m['bytes'] / 1024:>9.1f} kB {m['interactive_ms']:>9.0f} ms"
            f" {m['live_ms']:>8.0f} ms"
        )
    print(
        f"ratio {args.rooms} rooms / none: transferred x{loaded['bytes'] / baseline['bytes']:.2f}, "
        f"interactive x{loaded['interactive_ms'] / baseline['interactive_ms']:.2f}"
    )
    ok_bytes, ok_time = loaded["bytes"] < 300 * 1024, loaded["interactive_ms"] < 1000
    verdict = {True: "met", False: "MISSED"}
    print(f"goals: transferred < 300 kB {verdict[ok_bytes]}; interactive < 1 s {verdict[ok_time]}")


if __name__ == "__main__":
    asyncio.run(main())
