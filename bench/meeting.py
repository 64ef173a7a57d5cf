"""Meeting coach benchmark: a 10-participant meeting replayed at real-time pace through the coach.

    .venv/bin/python bench/meeting.py [--seconds 123] [--speed 1.0] [--no-prosody]

Every participant has its own audio chain (Silero VAD, levels) fed 20 ms frames on the wall clock, as a
room delivers them, and the coach runs with local prosody on. Reported: CPU per participant (% of one
core, process time over wall time / participants), the share of it the coach and prosody cost, that CPU
against the worker issue's budget (>= 50 participants per core, i.e. <= 2 % of one core each; printed as
a ratio, <= 1 is within it), and the feedback latency p50/p95 from the end of the triggering audio window
to the send's completion (goal < 1.5 s), through the profile's own `QueuedOutputs` (queue hop off the
frame loop, payload, send). The send here is a stand-in for the LiveKit text stream (no room: a LiveKit
server cannot run here, and the test server's aiortc relay says nothing about latency);
tests/coach/test_live.py prints the figures of real text-stream sends through the test server.
The recording is the tests' problem meeting (quiet, shouting, overlap, monologue, silence) plus four
well-behaved participants, built with espeak-ng and sox.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.audio import AudioChain, AudioChainConfig, load_silero  # noqa: E402
from agents.coach.engine import MeetingCoach  # noqa: E402
from agents.coach.prosody.local import LocalProsody  # noqa: E402
from agents.coach.runner import CoachRunner  # noqa: E402
from agents.coach.store import QueuedOutputs  # noqa: E402
from tests.coach.meetings import PROBLEM, PROBLEM_LENGTH, Plan, build, frames_round_robin, join_all  # noqa: E402

# Four well-behaved participants who speak after the host closes, so the problem meeting's situations
# (including its 25 s silence) stay as the tests build them.
EXTRA: Plan = {
    "gabi": [(121.5, "Eu concordo com a proposta apresentada.", "pt-br+f1", -22.0)],
    "hugo": [(125.0, "Podemos revisar isso na próxima semana.", "pt-br+m4", -24.0)],
    "iris": [(128.5, "Vou preparar um resumo para todos.", "pt-br+f5", -21.0)],
    "joao": [(132.0, "Alguém tem mais alguma pergunta?", "pt-br+m1", -23.0)],
}
LENGTH = PROBLEM_LENGTH + 12.0
# The worker issue's (issue 6) goal: at least 50 participants per core, i.e. at most 2 % of one core each.
PARTICIPANTS_PER_CORE = 50
BUDGET_PERCENT = 100 / PARTICIPANTS_PER_CORE


async def run(seconds: float, speed: float, prosody: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        meeting = build({**PROBLEM, **EXTRA}, LENGTH, Path(tmp))
    n = len(meeting.tracks)
    model = load_silero()
    origin = time.time()  # reset when the first frame is due; the session clock runs `speed` x wall time
    sent: list[tuple[str, dict[str, object]]] = []

    async def send(recipients: tuple[str, ...], body: str) -> None:
        # Where the profile awaits `send_text` on the room; the payload is what a host would receive.
        sent.append((recipients[0], json.loads(body)))
        await asyncio.sleep(0)

    out = QueuedOutputs(None, send, clock=lambda: origin + (time.time() - origin) * speed, clock_origin=origin)
    coach = MeetingCoach("RM_bench")
    runner = CoachRunner(coach, out, prosody=LocalProsody() if prosody else None)
    join_all(runner, meeting)
    chains = {who: AudioChain(AudioChainConfig(), vad_model=model) for who in meeting.tracks}
    coach_cpu = 0.0
    frame_s = 0.02
    cpu0, wall0 = time.process_time(), time.monotonic()
    origin = out.clock_origin = time.time()  # session-clock zero: the first frame's start
    for k, step in enumerate(frames_round_robin(meeting)):
        if k * frame_s >= seconds:
            break
        due = wall0 + (k + 1) * frame_s / speed  # a frame exists only once its 20 ms have been spoken
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        for who, frame in step:
            events = chains[who].push(frame)
            c0 = time.process_time()
            for ev in events:
                runner.on_event(who, ev)
            coach_cpu += time.process_time() - c0
    await runner.aclose()
    await out.aclose()
    wall = time.monotonic() - wall0
    cpu = time.process_time() - cpu0
    lat = [ms / 1000 for ms in out.latencies_ms]
    print(f"participants: {n}, audio: {min(seconds, meeting.length):.0f} s each, wall: {wall:.1f} s, speed x{speed}")
    per = 100 * cpu / wall / n
    print(f"CPU per participant: {per:.2f} % of one core (all stages)")
    print(f"  of which coach + local prosody: {100 * coach_cpu / wall / n:.3f} % of one core")
    ratio = per / BUDGET_PERCENT
    print(
        f"CPU budget (worker issue: >= {PARTICIPANTS_PER_CORE} participants per core = {BUDGET_PERCENT:.1f} % of"
        f" one core each): {per:.2f} % = {ratio:.2f} x the budget ({'ok' if ratio <= 1 else 'OVER'});"
        f" {f'{100 / per:.0f}' if per > 0 else 'unbounded'} participants per core at this rate"
    )
    print(f"feedback events: {len(lat)} ({', '.join(sorted({str(p['type']) for _, p in sent}))})")
    if lat:
        p50, p95 = np.percentile(lat, [50, 95])
        print(
            f"feedback latency (window end -> sent): p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
            f" (goal < 1500 ms: {'ok' if p95 < 1.5 else 'MISSED'})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=LENGTH)
    ap.add_argument("--speed", type=float, default=1.0, help="1.0 = real time (only for quick checks: >1)")
    ap.add_argument("--no-prosody", action="store_true")
    args = ap.parse_args()
    asyncio.run(run(args.seconds, args.speed, not args.no_prosody))


if __name__ == "__main__":
    main()
