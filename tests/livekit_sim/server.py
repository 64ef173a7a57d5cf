"""The aiohttp application and its command line (`python -m tests.livekit_sim`).

Routes: `/rtc` (+ `/rtc/validate`, `/rtc/v1`), `/agent`, `/twirp/livekit.*`, `/` (health), and two
test-only routes under `/_sim/` (set webhook URLs, inspect state) that real LiveKit does not have;
they need a token signed with the server's key like every other API call.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from aiohttp import web
from livekit.protocol import agent, models

from .context import CTX, AuthError, SimContext, bearer_token, verify
from .dispatch import AgentDispatcher
from .rooms import Rooms
from .signalling import rtc_join, rtc_v1, rtc_validate
from .twirp import twirp_handler
from .webhooks import WebhookSender

log = logging.getLogger("livekit_sim")


def build_app(
    *,
    api_key: str,
    api_secret: str,
    webhook_urls: list[str] | None = None,
    empty_timeout: int = 300,
    departure_timeout: int = 20,
) -> web.Application:
    rooms = Rooms(default_empty_timeout=empty_timeout, default_departure_timeout=departure_timeout)
    dispatcher = AgentDispatcher(rooms, api_key, api_secret)
    webhooks = WebhookSender(api_key, api_secret)
    # Webhooks first: LiveKit reports room_started before the agent it dispatches joins.
    rooms.observers += [webhooks, dispatcher]
    ctx = SimContext(api_key=api_key, api_secret=api_secret, rooms=rooms, dispatcher=dispatcher, webhooks=webhooks)

    app = web.Application()
    app[CTX] = ctx
    app.router.add_get("/", _health)
    app.router.add_get("/rtc", rtc_join)
    app.router.add_get("/rtc/validate", rtc_validate)
    app.router.add_get("/rtc/v1", rtc_v1)
    app.router.add_get("/agent", dispatcher.handle)
    app.router.add_post("/twirp/livekit.{service}/{method}", twirp_handler)
    app.router.add_post("/_sim/webhooks", _set_webhooks)
    app.router.add_get("/_sim/state", _state)

    async def _startup(app: web.Application) -> None:
        webhooks.set_urls(list(webhook_urls or []))

    async def _shutdown(app: web.Application) -> None:
        for room in list(rooms.rooms.values()):
            await rooms.close(room, models.DisconnectReason.SERVER_SHUTDOWN)
        await webhooks.close()

    app.on_startup.append(_startup)
    app.on_shutdown.append(_shutdown)
    return app


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="OK")


def _admin(request: web.Request) -> SimContext:
    ctx = request.app[CTX]
    try:
        verify(ctx, bearer_token(request))
    except AuthError as exc:
        raise web.HTTPUnauthorized(text=str(exc)) from None
    return ctx


async def _set_webhooks(request: web.Request) -> web.Response:
    ctx = _admin(request)
    body = await request.json()
    ctx.webhooks.set_urls([str(u) for u in body.get("urls", [])])
    return web.json_response({"urls": ctx.webhooks.urls})


async def _state(request: web.Request) -> web.Response:
    ctx = _admin(request)
    return web.json_response(
        {
            "rooms": {r.name: {"sid": r.sid, "participants": sorted(r.participants)} for r in ctx.rooms.rooms.values()},
            "workers": [
                {
                    "id": w.id,
                    "agent_name": w.agent_name,
                    "status": agent.WorkerStatus.Name(w.status),
                    "load": w.load,
                    "offered": w.offered,
                }
                for w in ctx.dispatcher.workers.values()
            ],
            "webhooks": ctx.webhooks.urls,
        }
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.livekit_sim", description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=7880)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--api-secret", required=True)
    parser.add_argument("--webhook-url", action="append", default=[])
    parser.add_argument("--empty-timeout", type=int, default=300, help="seconds; LiveKit's default")
    parser.add_argument("--departure-timeout", type=int, default=20, help="seconds; LiveKit's default")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app = build_app(
        api_key=args.api_key,
        api_secret=args.api_secret,
        webhook_urls=args.webhook_url,
        empty_timeout=args.empty_timeout,
        departure_timeout=args.departure_timeout,
    )
    asyncio.run(_serve(app, args.host, args.port))


async def _serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("livekit-sim listening on %s:%s", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
