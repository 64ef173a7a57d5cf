"""How every stub server in tests/ listens: an aiohttp app on a free port of 127.0.0.1 (or a given host)."""

from __future__ import annotations

from typing import Any

from aiohttp import web


async def serve(app: web.Application, host: str = "127.0.0.1", **runner_options: Any) -> tuple[web.AppRunner, int]:
    """Start ``app`` on an ephemeral port; returns the runner (``await runner.cleanup()`` stops it) and the port."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    await web.TCPSite(runner, host, 0).start()
    port: int = runner.addresses[0][1]
    return runner, port
