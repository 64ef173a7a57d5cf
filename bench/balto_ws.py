"""Balto `/ws` latency: end of an utterance on the socket to the recommendation frame (seed 001).

    .venv/bin/python bench/balto_ws.py [--rounds 2]     (needs root: the LiveKit test server's namespace)
    (about 2 minutes per round)

Everything real except the LiveKit server (the test double of tests/livekit_sim, an aiortc relay) and the
speech-to-text provider (the stub of tests/stt_stubs, answering the Portuguese sentence at once): the
control API serving `/ws`, `escuta worker` with the counter profile on the organization's sample catalog,
PostgreSQL. A device made with `/cadastro/cliente` + `/cadastro/balcao` streams espeak-ng Portuguese
speech as live WebM/Opus in 250 ms chunks at real time (each chunk sent once its audio was "heard");
the latency of one utterance is from the moment its last sample was heard to the arrival of the
`{"comando":"recomendar"}` frame on the socket.

Baseline, same run, same worker and catalog: a LiveKit participant publishing the same utterances
directly (`/token` with a customer's identity, 20 ms frames paced on the wall clock) and the device
participant receiving the text stream; the ratio bridged/native is the bridge's cost (decode,
buffering, its audio source's queue, the socket hop). The aiortc relay's timing is not LiveKit's: the
absolute figures say nothing about a production server; the ratio is what this measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import numpy as np
from livekit import rtc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.audio.frames import frames_from_array  # noqa: E402
from core.counter.wire import RECOMMENDATION_TOPIC  # noqa: E402
from db.migrate import migrate_dsn  # noqa: E402
from db.pool import create_pool  # noqa: E402
from tests.compat.balto import Device, LiveWebm, silence, speech  # noqa: E402
from tests.conftest import TEST_ADMIN_TOKEN  # noqa: E402
from tests.e2e import api_on_veth, room_settings  # noqa: E402
from tests.livekit_sim.fixtures import LIVEKIT_SIM_API_KEY, LiveKitServer  # noqa: E402
from tests.livekit_sim.netns import start_in_namespace  # noqa: E402
from tests.livekit_sim.workers import running_agent_worker  # noqa: E402
from tests.pg import admin_dsn, create_database, drop_database  # noqa: E402
from tests.stt_stubs import SttStubServer  # noqa: E402
from tests.transcription.speech import SR  # noqa: E402

# Sentences for the local recommender on the sample catalog, each a different need (those it does not
# answer are counted, not timed).
SENTENCES = [
    "Estou com dor de cabeça desde cedo",
    "Meu nariz está entupido e escorrendo",
    "Estou com azia depois do almoço",
    "Estou com tosse seca faz três dias",
    "Minha garganta está doendo muito",
    "Estou com alergia e o olho coçando",
    "Torci o tornozelo jogando bola e está doendo",
    "Estou com uma cólica muito forte na barriga",
    "Estou com diarreia desde ontem à noite",
]
ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
WAIT_SECONDS = 12.0


class Script:
    """The STT stub's answer: the sentence being spoken now."""

    def __init__(self) -> None:
        self.now = ""

    def __call__(self, provider: str, seconds: float) -> str:
        return self.now


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bridged(base: str, api_key: str, script: Script) -> list[float]:
    out: list[float] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(base.replace("http", "ws") + "/ws") as ws:
        dev = Device(ws)
        dev.start()
        await ws.send_str(json.dumps({"api_key": api_key, "atendente": "Bench"}))
        enc = LiveWebm()
        t = await dev.play(enc, silence(12.0))  # the room connects, the agent joins and subscribes
        for sentence in SENTENCES:
            script.now = sentence
            seen = len(dev.recommendations())
            end = await dev.play(enc, speech(sentence), at=t)
            t = end
            deadline = time.perf_counter() + WAIT_SECONDS
            while time.perf_counter() < deadline and len(dev.recommendations()) == seen:
                t = await dev.play(enc, silence(0.25), at=t)
            if len(dev.recommendations()) > seen:
                arrived = next(at for at, f in dev.frames if f.get("comando") == "recomendar" and at > end)
                out.append((arrived - end) * 1000)
            t = await dev.play(enc, silence(2.0), at=t)  # the next customer
    return out


async def native(server: LiveKitServer, http: httpx.AsyncClient, api_key: str, script: Script) -> list[float]:
    """The same utterances through a room participant (no socket, no decoding)."""
    key = {"X-API-Key": api_key}
    me = (await http.get("/devices/me", headers=key)).json()
    client_id = me["organization"]["clientId"]
    body = {"solution": "balcao", "clientId": client_id, "userId": f"native-{secrets.token_hex(3)}"}
    minted = (await http.post("/token", json=body, headers=key)).json()
    device = rtc.Room()
    await device.connect(server.url, minted["token"])
    arrivals: list[float] = []

    def on_stream(reader: rtc.TextStreamReader, sender: str) -> None:
        arrivals.append(time.perf_counter())

    device.register_text_stream_handler(RECOMMENDATION_TOPIC, on_stream)
    # The counter profile knows a device by its track: the device publishes its (silent) microphone too.
    device_source = rtc.AudioSource(SR, 1, queue_size_ms=50)
    device_track = rtc.LocalAudioTrack.create_audio_track("device-mic", device_source)
    mic = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    await device.local_participant.publish_track(device_track, mic)
    customer = rtc.Room()
    await customer.connect(server.url, server.token("cliente-bench", minted["room"]))
    source = rtc.AudioSource(SR, 1, queue_size_ms=50)
    track = rtc.LocalAudioTrack.create_audio_track("mic", source)
    await customer.local_participant.publish_track(
        track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    )
    clock = time.perf_counter()

    async def play(pcm: np.ndarray[Any, Any]) -> float:
        nonlocal clock
        quiet = next(iter(frames_from_array(silence(0.02), SR, 20)))
        for frame in frames_from_array(pcm, SR, 20):
            clock += 0.02
            await asyncio.sleep(max(0.0, clock - time.perf_counter()))
            await source.capture_frame(frame)
            await device_source.capture_frame(quiet)
        return clock

    out: list[float] = []
    await play(silence(10.0))
    for sentence in SENTENCES:
        script.now = sentence
        seen = len(arrivals)
        end = await play(speech(sentence))
        deadline = time.perf_counter() + WAIT_SECONDS
        while time.perf_counter() < deadline and len(arrivals) == seen:
            await play(silence(0.25))
        if len(arrivals) > seen:
            out.append((arrivals[seen] - end) * 1000)
        await play(silence(2.0))
    await customer.disconnect()
    await device.disconnect()
    return out


async def run(rounds: int) -> None:
    admin, _embedded = admin_dsn()
    dsn = await create_database(admin)
    await migrate_dsn(dsn)
    pool = await create_pool(dsn, min_size=1, max_size=5)
    tmp = Path(tempfile.mkdtemp(prefix="balto-bench-"))
    secret = secrets.token_hex(24)
    ns = start_in_namespace(
        api_key=LIVEKIT_SIM_API_KEY,
        api_secret=secret,
        log_path=tmp / "livekit.log",
        extra_args=["--departure-timeout", "2", "--empty-timeout", "30"],
    )
    server = LiveKitServer(
        url=f"ws://{ns.server_ip}:{ns.port}",
        api_key=LIVEKIT_SIM_API_KEY,
        api_secret=secret,
        host_ip=ns.host_ip,
        server_ip=ns.server_ip,
        log_path=tmp / "livekit.log",
    )
    stub = await SttStubServer().start()
    script = Script()
    stub.transcript_for = script
    agent = f"escuta-bench-{secrets.token_hex(3)}"
    env = {
        "ESCUTA_DATABASE_URL": dsn,
        "ESCUTA_AGENT_NAME": agent,
        "ESCUTA_STT_PROVIDERS": '["openai_compatible"]',
        "ESCUTA_STT_OPENAI_COMPATIBLE_BASE_URL": f"{stub.http_url}/v1",
        "ESCUTA_STT_OPENAI_COMPATIBLE_API_KEY": "oa-key",
        "ESCUTA_STT_LANGUAGE": "pt",
        "ESCUTA_STT_COOLDOWN_SECONDS": "0",
        "ESCUTA_WORKER_HTTP_PORT": "0",
        "ESCUTA_WORKER_LOAD_THRESHOLD": "1000",
        "ESCUTA_WORKER_NUM_IDLE_PROCESSES": "1",
        "ESCUTA_TRANSCRIPTION_FAILED_AUDIO_DIR": str(tmp / "failed"),
    }
    settings = room_settings(server, dsn, agent, admin_token=TEST_ADMIN_TOKEN)
    argv = [sys.executable, "-m", "escuta.cli", "worker"]
    try:
        async with (
            api_on_veth(server, settings, pool) as base,
            httpx.AsyncClient(base_url=base) as http,
            running_agent_worker(server, tmp / "worker.log", agent_name=agent, argv=argv, env=env, register_within=120),
        ):
            cliente = {"email": "bench@example.com", "razao_social": "Bench", "telefone": "1"}
            created = (await http.post("/cadastro/cliente", json=cliente, headers=ADMIN)).json()
            await http.post("/catalog/import/sample", params={"orgId": created["organization_id"]}, headers=ADMIN)
            ws_ms: list[float] = []
            native_ms: list[float] = []
            for r in range(rounds):  # a new conversation (room) per round: a conversation never repeats a suggestion
                device = (
                    await http.post(
                        "/cadastro/balcao", json={"nome_balcao": f"Bench {r}", "user_codigo": created["codigo"]}
                    )
                ).json()
                ws_ms += await bridged(base, device["api_key"], script)
                native_ms += await native(server, http, device["api_key"], script)
    finally:
        await stub.stop()
        ns.stop()
        await pool.close()
        await drop_database(admin, dsn)
    n = len(SENTENCES) * rounds
    print(f"utterances: {n}; recommendations: bridged {len(ws_ms)}, native {len(native_ms)}")
    for label, values in (("bridged /ws", ws_ms), ("native room participant", native_ms)):
        if values:
            print(
                f"{label:>24}: p50 {statistics.median(values):7.0f} ms   p95 {pct(values, 0.95):7.0f} ms"
                f"   min {min(values):6.0f}   max {max(values):6.0f}"
            )
    if ws_ms and native_ms:
        print(f"{'ratio bridged/native':>24}: p50 {statistics.median(ws_ms) / statistics.median(native_ms):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=2, help="conversations (each a new device and room) of nine sentences (default 2)"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("balto_ws: needs root (the LiveKit test server runs in a network namespace)")
    asyncio.run(run(args.rounds))


if __name__ == "__main__":
    main()
