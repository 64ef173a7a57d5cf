"""Worker benchmark: N simulated participants through the transcription profile, in real time, on one core.

    python -m bench.worker [--participants 10,25,50] [--seconds 30] [--delay 0.3] [--no-whisper]
                           [--search-from 50] [--search-seconds 15] [--lag-ms 100] [--no-search] [--no-pin]
                           [--modes direct,local,capture] [--search-modes direct,local]

Each participant is a `ParticipantFeed` (the worker's own per-track code: audio chain, VAD,
segmentation, the transcription profile) fed an espeak-ng recording at real-time pace, as a room
would. Speech-to-text is a stub that answers after a fixed delay, so what is measured is Escuta's
own cost. Reported per N:

* CPU per participant (process CPU seconds / audio seconds / N) and participants per core (1 / that);
* whether it kept up: feed lag (how late frames were pushed versus their real-time schedule), p95/max;
* own latency: utterance cut → transcript published, minus the provider's time, p50/p95.

Then the largest N that keeps up, found by trials (N doubles from `--search-from` until a trial falls
behind, then bisection to within ~10 %): "kept up" means feed lag p95 under `--lag-ms` and the run
ending on time. The process is pinned to one CPU (as `bench/audio_core.py` is), so that N is the
number of participants one core sustains, measured rather than extrapolated from CPU per participant.
And the local Whisper model's real-time factor (inference seconds / audio seconds) on that core.
Goals (issue 6): ≥ 50 participants per core, own latency p95 < 20 ms. Numbers from a shared 2-core
VM move by tens of percent between runs; compare within a run.

Frame delivery (issue 20.5). In a room the worker does not get frames for free: the SDK decodes each
track and hands every 10-20 ms frame to Python through ``rtc.AudioStream`` (an FFI event, a Python
frame object, resampling 48 kHz to 16 kHz in Rust), which costs more per stream than Escuta's own work.
Each run is made in these modes (``--modes``), side by side:

* ``direct``: frames fed straight to the feed (today's figure: Escuta's own cost);
* ``local``: the SDK's own local path: each participant's 48 kHz audio is captured into an
  ``rtc.AudioSource`` -> ``LocalAudioTrack``, and the feed reads it from an ``rtc.AudioStream`` of that
  track asking for 16 kHz mono, as the worker does (agents/audio/chain.py);
* ``capture``: only the capture side of ``local`` (``AudioSource.capture_frame`` at real-time pace, no
  stream, no feed): a cost the worker does not have (in a room, the publisher is a browser), measured so
  it can be taken out: "delivery included" = ``local`` - ``capture``, per participant.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents import stt as lk_stt
from livekit.agents.language import LanguageCode
from livekit.agents.utils import AudioBuffer

from agents.audio import load_silero
from agents.audio.frames import SAMPLE_RATE, frames_from_array
from agents.listening import ParticipantFeed
from agents.profiles import ProfileContext, SessionInfo, Speaker
from agents.transcription.profile import TranscriptionProfile
from bench.capacity import largest_passing, pin_to_one_cpu
from core.settings import Settings
from stt import FallbackTranscriber, SpeechToText
from tests.transcription.speech import SCRIPT_B, SCRIPT_EN, recording

FRAME_MS = 20


class DelaySTT(lk_stt.STT[Any]):
    """Answers every utterance after a fixed delay, like a provider with constant latency."""

    def __init__(self, delay: float) -> None:
        super().__init__(capabilities=lk_stt.STTCapabilities(streaming=False, interim_results=False))
        self.delay = delay

    async def _recognize_impl(
        self, buffer: AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> lk_stt.SpeechEvent:
        await asyncio.sleep(self.delay)
        return lk_stt.SpeechEvent(
            type=lk_stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[lk_stt.SpeechData(language=LanguageCode("en"), text="stub transcript", confidence=0.9)],
        )


class CountingPublisher:
    def __init__(self) -> None:
        self.published = 0

    async def publish_transcript(self, speaker: Speaker, segment_id: str, text: str) -> None:
        self.published += 1

    async def send_text(
        self, topic: str, text: str, *, to: list[str] | None = None, attributes: dict[str, str] | None = None
    ) -> None:
        return None

    def record(self, kind: str, data: dict[str, Any]) -> None:
        return None


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


STAGGER_S = 5.0  # participants start at different points of the recording, so utterances do not align


def speech(seconds: float) -> np.ndarray[Any, np.dtype[np.int16]]:
    """`seconds` of speech plus `STAGGER_S` of run-out, so each participant's track is a view, not a copy."""
    base = np.concatenate([recording(SCRIPT_EN).audio, recording(SCRIPT_B, lead=0.3).audio])
    total = int((seconds + STAGGER_S) * SAMPLE_RATE)
    return np.tile(base, int(np.ceil(total / len(base))))[:total]


async def paced(
    samples: np.ndarray[Any, np.dtype[np.int16]], lags: list[float], phase: float = 0.0
) -> AsyncIterator[rtc.AudioFrame]:
    """Frames at real-time pace, `phase` seconds into the frame period: tracks from different publishers
    do not tick together, and making them would turn every 20 ms into one burst of N pushes."""
    start = time.perf_counter() + phase
    for i, frame in enumerate(frames_from_array(samples, SAMPLE_RATE, FRAME_MS)):
        due = start + i * FRAME_MS / 1000
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        lags.append(max(0.0, time.perf_counter() - due))
        yield frame


ROOM_RATE = 48_000  # what LiveKit decodes a remote audio track to; the worker's stream asks for 16 kHz


def upsampled(audio: np.ndarray[Any, np.dtype[np.int16]]) -> np.ndarray[Any, np.dtype[np.int16]]:
    """16 kHz speech as the 48 kHz a room's decoder would produce (linear interpolation is enough here)."""
    factor = ROOM_RATE // SAMPLE_RATE
    x = np.arange(len(audio) * factor) / factor
    out: np.ndarray[Any, np.dtype[np.int16]] = np.interp(x, np.arange(len(audio)), audio).astype(np.int16)
    return out


async def _delivered(stream: rtc.AudioStream) -> AsyncIterator[rtc.AudioFrame]:
    async for event in stream:
        yield event.frame


async def _capture(
    source: rtc.AudioSource, samples: np.ndarray[Any, np.dtype[np.int16]], lags: list[float], phase: float
) -> None:
    start = time.perf_counter() + phase
    for i, frame in enumerate(frames_from_array(samples, ROOM_RATE, FRAME_MS)):
        due = start + i * FRAME_MS / 1000
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        lags.append(max(0.0, time.perf_counter() - due))
        await source.capture_frame(frame)


async def _through_the_sdk(
    feed: ParticipantFeed | None,
    name: str,
    samples: np.ndarray[Any, np.dtype[np.int16]],
    lags: list[float],
    phase: float,
) -> None:
    """One participant's audio through AudioSource -> LocalAudioTrack -> AudioStream (16 kHz mono) -> feed."""
    source = rtc.AudioSource(ROOM_RATE, 1)  # its default 1 s queue: capture_frame returns at once
    track = rtc.LocalAudioTrack.create_audio_track(name, source)
    if feed is None:  # capture only
        await _capture(source, samples, lags, phase)
        await source.aclose()
        return
    stream = rtc.AudioStream.from_track(track=track, sample_rate=SAMPLE_RATE, num_channels=1)
    consumer = asyncio.create_task(feed.run(_delivered(stream)))
    await _capture(source, samples, lags, phase)
    await source.wait_for_playout()
    await asyncio.sleep(0.1)  # the last frames through the stream
    await stream.aclose()
    await consumer
    await source.aclose()


async def run_participants(
    n: int,
    seconds: float,
    delay: float,
    audio: np.ndarray[Any, np.dtype[np.int16]],
    lag_limit: float = 0.1,
    mode: str = "direct",
    audio48: np.ndarray[Any, np.dtype[np.int16]] | None = None,
) -> dict[str, Any]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    profile = TranscriptionProfile()
    profile.configure_audio(settings)  # as the worker does: the ESCUTA_AUDIO_* chain, no level snapshots
    publisher = CountingPublisher()
    session = SessionInfo("bench", "bench", None, None, datetime.now(UTC))
    profile.ctx = ProfileContext(session, settings, publisher)
    profile.stt = FallbackTranscriber([SpeechToText("stub", DelaySTT(delay))], attempt_timeout=30)
    vad = load_silero(profile.audio.silero_backend)
    lags: list[float] = []
    feeds = []
    tracks = []
    length = int(seconds * SAMPLE_RATE)
    for i in range(n):
        shift = int((i * 0.37 % STAGGER_S) * SAMPLE_RATE)
        tracks.append(audio[shift : shift + length])
        feeds.append(ParticipantFeed(profile, Speaker(f"p{i}", f"TR_{i}"), vad_model=vad))
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    period = FRAME_MS / 1000
    if mode == "direct":
        await asyncio.gather(
            *(f.run(paced(t, lags, period * i / n)) for i, (f, t) in enumerate(zip(feeds, tracks, strict=True)))
        )
    else:
        assert audio48 is not None
        factor = ROOM_RATE // SAMPLE_RATE
        await asyncio.gather(
            *(
                _through_the_sdk(
                    None if mode == "capture" else feeds[i],
                    f"p{i}",
                    audio48[int((i * 0.37 % STAGGER_S) * ROOM_RATE) :][: length * factor],
                    lags,
                    period * i / n,
                )
                for i in range(n)
            )
        )
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    per = cpu / seconds / n
    return {
        "mode": mode,
        "participants": n,
        "audio_seconds": seconds,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "cpu_per_participant": round(per, 5),
        "participants_per_core": round(1 / per, 1) if per else None,
        "feed_lag_p95_ms": round(pct(lags, 95) * 1000, 1),
        "feed_lag_max_ms": round(max(lags) * 1000, 1),
        "kept_up": pct(lags, 95) < lag_limit and wall < seconds * 1.1 + delay + 1,
        "utterances": profile.stats["utterances"],
        "published": publisher.published,
        "own_latency_p50_ms": round(statistics.median(profile.own_latency_ms), 2) if profile.own_latency_ms else None,
        "own_latency_p95_ms": round(pct(profile.own_latency_ms, 95), 2),
        "provider_ms_p50": round(statistics.median(profile.provider_ms), 1) if profile.provider_ms else None,
    }


def whisper_rtf() -> dict[str, Any]:
    from stt.local_whisper import WhisperSTT

    rec = recording(SCRIPT_EN)
    clips = [rec.audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in rec.spans]
    stt = WhisperSTT(model="tiny.en")
    audio_s = sum(len(c) for c in clips) / SAMPLE_RATE

    async def go() -> tuple[float, float]:
        await stt.recognize(rtc.AudioFrame(clips[0].tobytes(), SAMPLE_RATE, 1, len(clips[0])))  # warm-up
        c0, w0 = time.process_time(), time.perf_counter()
        for c in clips:
            await stt.recognize(rtc.AudioFrame(c.tobytes(), SAMPLE_RATE, 1, len(c)))
        return time.perf_counter() - w0, time.process_time() - c0

    wall, cpu = asyncio.run(go())
    return {
        "model": "tiny.en (int8, 1 thread)",
        "audio_seconds": round(audio_s, 2),
        "rtf_wall": round(wall / audio_s, 3),
        "rtf_cpu": round(cpu / audio_s, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", default="10,25,50", help="comma-separated fixed N values ('' for none)")
    ap.add_argument("--seconds", type=float, default=30.0, help="audio per participant in the fixed-N runs")
    ap.add_argument("--delay", type=float, default=0.3, help="stub provider delay (s)")
    ap.add_argument("--lag-ms", type=float, default=100.0, help="feed lag p95 above which a run fell behind")
    ap.add_argument("--search-from", type=int, default=50, help="first N of the search for the largest N")
    ap.add_argument("--search-max", type=int, default=2048, help="largest N the search tries")
    ap.add_argument("--search-seconds", type=float, default=15.0, help="audio per participant in search trials")
    ap.add_argument("--no-search", action="store_true", help="only the fixed N values")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    ap.add_argument("--no-whisper", action="store_true", help="skip the Whisper real-time factor")
    ap.add_argument("--modes", default="direct,local,capture", help="frame paths of the fixed-N runs (see above)")
    ap.add_argument("--search-modes", default="direct,local", help="frame paths the largest-N search is run for")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if not set(modes) <= {"direct", "local", "capture"}:
        raise SystemExit("--modes: direct, local or capture")
    lag_limit = args.lag_ms / 1000
    cpu = None
    if not args.no_pin:
        cpu = pin_to_one_cpu()  # one core: "participants per core"
    audio = speech(max(args.seconds, args.search_seconds))
    audio48 = upsampled(audio)
    # The runtime the trials will use (ESCUTA_AUDIO_SILERO_BACKEND), loaded before any timing starts.
    load_silero(TranscriptionProfile().configure_audio(Settings(_env_file=None)).silero_backend)  # type: ignore[call-arg]
    # As the worker's prewarm does: what is loaded by now is never scanned by the collector again.
    gc.collect()
    gc.freeze()
    print(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "pinned_cpu": cpu,
                "cpus_online": os.cpu_count(),
                "load_before": round(os.getloadavg()[0], 2),
            }
        ),
        flush=True,
    )
    results: dict[str, Any] = {"runs": []}
    for n in (int(x) for x in args.participants.split(",") if x.strip()):
        for mode in modes:  # interleaved per N: a busy moment on the shared machine hits every mode alike
            r = asyncio.run(run_participants(n, args.seconds, args.delay, audio, lag_limit, mode, audio48))
            results["runs"].append(r)
            print(json.dumps(r), flush=True)
    best: dict[str, dict[str, Any] | None] = {}
    for mode in ("direct", "local"):
        best[mode] = max(
            (r for r in results["runs"] if r["kept_up"] and r["mode"] == mode),
            key=lambda r: r["participants"],
            default=None,
        )
    for mode in [m for m in args.search_modes.split(",") if m] if not args.no_search else []:

        def trial(n: int, mode: str = mode) -> dict[str, Any]:
            r = asyncio.run(run_participants(n, args.search_seconds, args.delay, audio, lag_limit, mode, audio48))
            print(json.dumps({"search": True, **r}), flush=True)
            return r

        def better(first: dict[str, Any], again: dict[str, Any]) -> dict[str, Any]:
            return again if again["kept_up"] or again["feed_lag_p95_ms"] < first["feed_lag_p95_ms"] else first

        searched = largest_passing(trial, lambda r: bool(r["kept_up"]), better, args.search_from, args.search_max)
        found, current = searched[1], best.get(mode)
        if found is not None and (current is None or found["participants"] > current["participants"]):
            best[mode] = found
    if not args.no_whisper:
        results["whisper"] = whisper_rtf()
        print(json.dumps(results["whisper"]), flush=True)
    print(json.dumps({"summary": True, "pinned_cpu": cpu, **_summary(results["runs"], best)}))


def _summary(runs: list[dict[str, Any]], best: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode, found in best.items():
        out[f"{mode}_largest_n_kept_up"] = found["participants"] if found else 0
        out[f"{mode}_participants_per_core_at_largest"] = found["participants_per_core"] if found else None
        out[f"{mode}_own_latency_p95_ms_at_largest"] = found["own_latency_p95_ms"] if found else None
    # Per N measured in every mode: Escuta alone, with the SDK's local path, and with delivery only
    # (the local path minus its capture side, which in a room is the browser's).
    table = []
    for n in sorted({r["participants"] for r in runs}):
        by_mode = {r["mode"]: r for r in runs if r["participants"] == n}
        row: dict[str, Any] = {"participants": n}
        for mode, r in by_mode.items():
            row[f"{mode}_cpu_per_participant"] = r["cpu_per_participant"]
            row[f"{mode}_participants_per_core"] = r["participants_per_core"]
        if "local" in by_mode and "capture" in by_mode:
            delivered = by_mode["local"]["cpu_per_participant"] - by_mode["capture"]["cpu_per_participant"]
            row["delivery_included_cpu_per_participant"] = round(delivered, 5)
            row["delivery_included_participants_per_core"] = round(1 / delivered, 1) if delivered > 0 else None
            if "direct" in by_mode:
                row["delivery_cpu_per_stream"] = round(delivered - by_mode["direct"]["cpu_per_participant"], 5)
        table.append(row)
    out["per_n"] = table
    out["load_after"] = round(os.getloadavg()[0], 2)
    return out


if __name__ == "__main__":
    main()
