"""A trivial livekit-agents AgentServer used to test dispatch against the test server.

Run as a subprocess (`python -c "from tests.livekit_sim.agent_app import main; main()"`) with LIVEKIT_*
set and SIM_AGENT_NAME ("" = automatic dispatch). Each job joins the room, subscribes to the first
participant's audio, measures the tone it hears and sends a text stream (topic `sim.agent`) back to
that participant with what it heard and the job's dispatch details. A job whose dispatch metadata is
JSON with `"then": "shutdown"` ends itself after replying (so its final job status can be observed).

SIM_LOAD makes the worker report that fixed load instead of its CPU estimate (it never reports FULL).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal

from livekit import rtc
from livekit.agents import AgentServer, AutoSubscribe, JobContext, utils

REPLY_TOPIC = "sim.agent"

server = AgentServer(
    # A shared 2-core CI box runs hot; never let the CPU-based load estimate mark the worker full.
    load_threshold=float("inf"),
    num_idle_processes=1,
    port=0,
    host="127.0.0.1",
    initialize_process_timeout=30,
)
if forced_load := os.environ.get("SIM_LOAD"):
    server.load_fnc = lambda: float(forced_load)


@server.rtc_session(agent_name=os.environ.get("SIM_AGENT_NAME", ""))
async def entrypoint(ctx: JobContext) -> None:
    from tests.livekit_sim.client import dominant_frequency  # numpy only in the job process

    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    participant = await ctx.wait_for_participant()
    publication = await utils.wait_for_track_publication(
        ctx.room, identity=participant.identity, kind=rtc.TrackKind.KIND_AUDIO, wait_for_subscription=True
    )
    assert publication.track is not None
    frequency = await dominant_frequency(publication.track, seconds=0.3)
    reply = {
        "heard": participant.identity,
        "frequency": round(frequency),
        "agent_name": ctx.job.agent_name,
        "metadata": ctx.job.metadata,
        "job_id": ctx.job.id,
    }
    await ctx.room.local_participant.send_text(
        json.dumps(reply), topic=REPLY_TOPIC, destination_identities=[participant.identity]
    )
    then: object = None
    with contextlib.suppress(ValueError, AttributeError):
        then = json.loads(ctx.job.metadata).get("then")
    if then == "shutdown":
        ctx.shutdown("replied")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        worker = asyncio.create_task(server.run())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([worker, stopper], return_when=asyncio.FIRST_COMPLETED)
        await server.aclose()
        stopper.cancel()

    asyncio.run(run())
