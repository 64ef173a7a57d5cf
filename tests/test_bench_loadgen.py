"""The benches' lean load generator: every request answered, statuses and latencies counted."""

from __future__ import annotations

from aiohttp import web

from bench.loadgen import run_load_lean


async def test_lean_load_sends_every_request_and_reads_every_answer(unused_tcp_port: int) -> None:
    seen: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(body)
        if body.endswith(b"7"):
            return web.json_response({"error": "no"}, status=404)
        return web.Response(body=b"x" * (len(body) * 1000))  # answers of different sizes, some large

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        requests = [(f"event {i}".encode(), {"Content-Type": "text/plain"}) for i in range(100)]
        result = await run_load_lean("t", f"http://127.0.0.1:{unused_tcp_port}/hook", requests, 8)
    finally:
        await runner.cleanup()
    assert sorted(seen) == sorted(body for body, _ in requests)
    assert result.requests == 100 and len(result.latencies_ms) == 100
    assert result.errors == 10  # "event 7", "event 17", ... "event 97"
    assert all(ms >= 0 for ms in result.latencies_ms)
