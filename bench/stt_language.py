"""Speech-to-text by language: word error rate, real-time factor and invented transcripts, per offline provider.

    python -m bench.stt_language [--corpus DIR] [--split holdout|tune|all] [--threads 1] [--jsonl FILE]

Builds (once, under --corpus) the corpus of `bench/language_corpus.py`: pt-BR and English espeak-ng
speech (four voices, three speeds, counter and meeting sentences, one in three under pink noise) and
audio that must never become a transcript (music-like tunes, a television in the next room, silence).
Then, for each offline route a room can take, the provider exactly as a job builds it
(`build_providers(..., language=room)`: the room's language picks the model) transcribes every clip,
and the answer is judged by the same plausibility rules the fallback chain applies
(`stt.plausibility.judge` with the `ESCUTA_STT_PLAUSIBILITY_*` settings). Reported per route:

* WER on the room's own speech, counting a refused utterance as said and lost (all words deleted),
  and WER on the accepted ones; the rate of refused speech (false rejections);
* real-time factor: inference wall seconds / audio seconds (and CPU seconds / audio seconds);
* invented transcripts: audio that must be refused (music, TV, silence; and for the English-only model,
  Portuguese speech) whose answer would be stored as `ok` with text. Goal: 0.

The thresholds were chosen on the `tune` half; the default --split is `holdout`, the half they never
saw. The cloud providers are not here: they need keys and the network; the stubs in tests/stt check
what they are sent (the language parameter) and the fallback on refused answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from livekit import rtc

from bench.language_corpus import SR, Clip, build
from core.settings import Settings
from stt import build_providers
from stt.plausibility import Signals, judge
from stt.providers import rules_of
from tests.transcription.speech import wer

# The routes measured: a room's language, and speech in other languages it must refuse (Portuguese to the
# English-only model: a Portuguese speaker in a room set to English).
ROUTES: list[tuple[str, list[str]]] = [("pt-BR", []), ("en", ["pt-BR"])]


@dataclass
class Row:
    room: str
    model: str
    refs: list[str] = field(default_factory=list)
    hyps_all: list[str] = field(default_factory=list)  # refused → ""
    accepted_refs: list[str] = field(default_factory=list)
    accepted_hyps: list[str] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    invented: dict[str, list[int]] = field(default_factory=dict)  # condition → [ok with text, total]
    audio_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0


async def answer(provider: Any, clip: Clip, settings: Settings, room: str) -> tuple[str, str | None, float, float]:
    """(text, refusal kind or None, wall s, cpu s) for one clip through the provider's own STT."""
    x = clip.audio()
    frame = rtc.AudioFrame(x.tobytes(), SR, 1, len(x))
    c0, w0 = time.process_time(), time.perf_counter()
    ev = await provider.stt.recognize(frame, language=provider.language or "")
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    alt = ev.alternatives[0]
    rejection = judge(
        provider=provider.name,
        text=alt.text.strip(),
        requested_language=room,
        reported_language=str(alt.language or "") or None,
        signals=Signals.from_metadata(alt.metadata),
        rules=rules_of(settings),
        multilingual=provider.multilingual,
    )
    return alt.text.strip(), rejection.kind if rejection else None, wall, cpu


async def run_route(settings: Settings, room: str, foreign: list[str], clips: list[Clip], out: Any) -> Row:
    [provider] = await build_providers(settings.replace(stt_providers=["local"]), None, None, language=room)
    row = Row(room, provider.model)
    await answer(provider, clips[0], settings, room)  # warm-up (and the bundled model's first join)
    speech = [c for c in clips if c.kind == "speech" and c.language in (room, *foreign)]
    rejects = [c for c in clips if c.kind == "reject"]
    for clip in speech + rejects:
        text, refused, wall, cpu = await answer(provider, clip, settings, room)
        own = clip.kind == "speech" and clip.language == room
        if own:
            row.refs.append(clip.text)
            row.hyps_all.append("" if refused else text)
            row.audio_s += len(clip.audio()) / SR
            row.wall_s, row.cpu_s = row.wall_s + wall, row.cpu_s + cpu
            if refused:
                row.refused[refused] = row.refused.get(refused, 0) + 1
            else:
                row.accepted_refs.append(clip.text)
                row.accepted_hyps.append(text)
        else:
            kind = "speech " + clip.language if clip.kind == "speech" else clip.condition.split()[0]
            counts = row.invented.setdefault(kind, [0, 0])
            counts[1] += 1
            if not refused and text:
                counts[0] += 1
        if out is not None:
            out.write(
                json.dumps(
                    {
                        "room": room,
                        "model": row.model,
                        "clip": clip.id,
                        "split": clip.split,
                        "text": text,
                        "refused": refused,
                        "wall_s": round(wall, 3),
                    }
                )
                + "\n"
            )
    await provider.aclose()
    return row


def summary(row: Row) -> dict[str, Any]:
    n = len(row.refs)
    refused = sum(row.refused.values())
    invented = sum(v[0] for v in row.invented.values())
    must_refuse = sum(v[1] for v in row.invented.values())
    return {
        "room": row.room,
        "model": row.model,
        "utterances": n,
        "wer": round(wer(row.refs, row.hyps_all), 3) if n else None,
        "wer_accepted": round(wer(row.accepted_refs, row.accepted_hyps), 3) if row.accepted_refs else None,
        "refused_speech": f"{refused}/{n}" if n else None,
        "false_rejection_rate": round(refused / n, 3) if n else None,
        "refused_by_kind": row.refused,
        "rtf_wall": round(row.wall_s / row.audio_s, 3) if row.audio_s else None,
        "rtf_cpu": round(row.cpu_s / row.audio_s, 3) if row.audio_s else None,
        "invented_ok": f"{invented}/{must_refuse}",
        "invented_rate": round(invented / must_refuse, 3) if must_refuse else None,
        "invented_by_kind": {k: f"{v[0]}/{v[1]}" for k, v in row.invented.items()},
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| room | model | utterances | WER (refused = lost) | WER accepted | refused speech | RTF wall / CPU "
        "| invented stored as ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['room']} | {r['model']} | {r['utterances']} | {r['wer']} | {r['wer_accepted']} "
            f"| {r['refused_speech']} | {r['rtf_wall']} / {r['rtf_cpu']} | {r['invented_ok']} "
            f"({', '.join(f'{k} {v}' for k, v in r['invented_by_kind'].items())}) |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=Path(".escuta/bench/stt-language"), help="corpus folder (reused)")
    ap.add_argument("--split", choices=["holdout", "tune", "all"], default="holdout")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads of the local model")
    ap.add_argument("--jsonl", type=Path, help="also write one JSON line per clip and route here")
    args = ap.parse_args()
    clips = [c for c in build(args.corpus) if args.split == "all" or c.split == args.split]
    settings = Settings(_env_file=None).replace(stt_local_threads=args.threads)  # type: ignore[call-arg]
    print(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "split": args.split,
                "clips": len(clips),
                "cpus_online": os.cpu_count(),
                "load_before": round(os.getloadavg()[0], 2),
                "rules": rules_of(settings).__repr__(),
            }
        ),
        flush=True,
    )
    out = args.jsonl.open("w") if args.jsonl else None
    rows = []
    for room, foreign in ROUTES:
        r = summary(asyncio.run(run_route(settings, room, foreign, clips, out)))
        rows.append(r)
        print(json.dumps(r), flush=True)
    if out is not None:
        out.close()
    print(table(rows))
    print(json.dumps({"load_after": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
