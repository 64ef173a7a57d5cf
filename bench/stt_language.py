"""Speech-to-text by language: word error rate, real-time factor and invented transcripts, per offline provider.

    python -m bench.stt_language [--corpus DIR] [--split holdout|tune|all] [--rooms pt-BR,en] [--threads 1]
                                 [--jsonl FILE] [--no-adversarial]

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
  Portuguese speech) whose answer would be stored as `ok` with text. Goal: 0;
* for the English-only model, every figure also without the language check (`stt/language_check.py`: the
  same answers judged without its English probability; its time taken out of the real-time factors);
* adversarial English (one-word answers, numbers, code-switching, a Brazilian accent), counted apart:
  refused (false rejections) and WER per group.

With --jsonl, one line per clip: its text, verdicts, and the language check's five likeliest languages
when it ran (what the misheard-English exception of `stt/plausibility.py` was chosen on).

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from livekit import rtc

from bench.language_corpus import ADVERSARIAL, SR, Clip, build
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
    refused_unchecked: int = 0
    invented: dict[str, list[int]] = field(default_factory=dict)  # condition → [ok with text, total]
    invented_unchecked: dict[str, int] = field(default_factory=dict)
    adversarial: dict[str, list[int]] = field(default_factory=dict)  # group → [refused, total, refused unchecked]
    adversarial_wer: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    audio_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    check_wall_s: float = 0.0
    check_cpu_s: float = 0.0
    checks: int = 0
    checked_utterances: int = 0


@dataclass
class Answer:
    text: str
    refused: str | None  # the refusal kind, with every rule
    refused_unchecked: str | None  # the same without the language check
    english_probability: float | None  # the language check's, when it ran
    wall_s: float
    cpu_s: float
    check_wall_s: float  # of which the language check
    check_cpu_s: float
    languages: dict[str, float] | None = None  # the language check's five likeliest, when it ran


async def answer(provider: Any, clip: Clip, settings: Settings, room: str) -> Answer:
    """One clip through the provider's own STT, judged with and without the language check."""
    x = clip.audio()
    frame = rtc.AudioFrame(x.tobytes(), SR, 1, len(x))
    check = getattr(provider.stt, "language_check", None)
    before = (check.wall_seconds, check.cpu_seconds) if check is not None else (0.0, 0.0)
    checks_before = check.checks if check is not None else 0
    c0, w0 = time.process_time(), time.perf_counter()
    ev = await provider.stt.recognize(frame, language=provider.language or "")
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    after = (check.wall_seconds, check.cpu_seconds) if check is not None else (0.0, 0.0)
    alt = ev.alternatives[0]
    signals = Signals.from_metadata(alt.metadata)
    verdicts = []
    for s in (signals, replace(signals, english_probability=None) if signals is not None else None):
        rejection = judge(
            provider=provider.name,
            text=alt.text.strip(),
            requested_language=room,
            reported_language=str(alt.language or "") or None,
            signals=s,
            rules=rules_of(settings),
            multilingual=provider.multilingual,
        )
        verdicts.append(rejection.kind if rejection else None)
    return Answer(
        alt.text.strip(),
        verdicts[0],
        verdicts[1],
        signals.english_probability if signals is not None else None,
        wall,
        cpu,
        after[0] - before[0],
        after[1] - before[1],
        check.last if check is not None and check.checks > checks_before else None,
    )


async def run_route(settings: Settings, room: str, foreign: list[str], clips: list[Clip], out: Any) -> Row:
    [provider] = await build_providers(settings.replace(stt_providers=["local"]), None, None, language=room)
    row = Row(room, provider.model)
    await answer(provider, clips[0], settings, room)  # warm-up (and the bundled model's first join)
    speech = [c for c in clips if c.kind == "speech" and c.language in (room, *foreign)]
    rejects = [c for c in clips if c.kind == "reject"]
    for clip in speech + rejects:
        a = await answer(provider, clip, settings, room)
        row.checks += a.check_wall_s > 0
        group = clip.condition.split()[0]
        if clip.kind == "speech" and clip.language == room and group in ADVERSARIAL:
            # Good English that looks like what the rules refuse: counted apart from the main set.
            counts = row.adversarial.setdefault(group, [0, 0, 0])
            counts[0] += a.refused is not None
            counts[1] += 1
            counts[2] += a.refused_unchecked is not None
            refs, hyps = row.adversarial_wer.setdefault(group, ([], []))
            refs.append(clip.text)
            hyps.append("" if a.refused else a.text)
        elif clip.kind == "speech" and clip.language == room:
            row.refs.append(clip.text)
            row.hyps_all.append("" if a.refused else a.text)
            row.audio_s += len(clip.audio()) / SR
            row.wall_s, row.cpu_s = row.wall_s + a.wall_s, row.cpu_s + a.cpu_s
            row.check_wall_s, row.check_cpu_s = row.check_wall_s + a.check_wall_s, row.check_cpu_s + a.check_cpu_s
            row.checked_utterances += a.check_wall_s > 0
            row.refused_unchecked += a.refused_unchecked is not None
            if a.refused:
                row.refused[a.refused] = row.refused.get(a.refused, 0) + 1
            else:
                row.accepted_refs.append(clip.text)
                row.accepted_hyps.append(a.text)
        else:
            kind = "speech " + clip.language if clip.kind == "speech" else group
            counts = row.invented.setdefault(kind, [0, 0])
            counts[1] += 1
            if not a.refused and a.text:
                counts[0] += 1
            if not a.refused_unchecked and a.text:
                row.invented_unchecked[kind] = row.invented_unchecked.get(kind, 0) + 1
        if out is not None:
            out.write(
                json.dumps(
                    {
                        "room": room,
                        "model": row.model,
                        "clip": clip.id,
                        "split": clip.split,
                        "condition": clip.condition,
                        "text": a.text,
                        "refused": a.refused,
                        "refused_unchecked": a.refused_unchecked,
                        "english_probability": a.english_probability,
                        "languages": a.languages,
                        "wall_s": round(a.wall_s, 3),
                        "check_wall_s": round(a.check_wall_s, 3),
                    }
                )
                + "\n"
            )
    await provider.aclose()
    return row


def _ratio(x: float, audio_s: float) -> float | None:
    return round(x / audio_s, 3) if audio_s else None


def summary(row: Row) -> dict[str, Any]:
    n = len(row.refs)
    refused = sum(row.refused.values())
    invented = sum(v[0] for v in row.invented.values())
    must_refuse = sum(v[1] for v in row.invented.values())
    adversarial_total = sum(v[1] for v in row.adversarial.values())
    return {
        "room": row.room,
        "model": row.model,
        "language_check": row.checks > 0,
        "utterances": n,
        "wer": round(wer(row.refs, row.hyps_all), 3) if n else None,
        "wer_accepted": round(wer(row.accepted_refs, row.accepted_hyps), 3) if row.accepted_refs else None,
        "refused_speech": f"{refused}/{n}" if n else None,
        "false_rejection_rate": round(refused / n, 3) if n else None,
        "refused_by_kind": row.refused,
        "refused_speech_without_check": f"{row.refused_unchecked}/{n}" if n else None,
        "adversarial_refused": f"{sum(v[0] for v in row.adversarial.values())}/{adversarial_total}",
        "adversarial_by_group": {
            g: {
                "refused": f"{v[0]}/{v[1]}",
                "refused_without_check": f"{v[2]}/{v[1]}",
                "wer": round(wer(*row.adversarial_wer[g]), 3),
            }
            for g, v in row.adversarial.items()
        },
        "rtf_wall": _ratio(row.wall_s, row.audio_s),
        "rtf_cpu": _ratio(row.cpu_s, row.audio_s),
        "rtf_wall_without_check": _ratio(row.wall_s - row.check_wall_s, row.audio_s),
        "rtf_cpu_without_check": _ratio(row.cpu_s - row.check_cpu_s, row.audio_s),
        "checked_utterances": f"{row.checked_utterances}/{n}",
        "invented_ok": f"{invented}/{must_refuse}",
        "invented_rate": round(invented / must_refuse, 3) if must_refuse else None,
        "invented_by_kind": {k: f"{v[0]}/{v[1]}" for k, v in row.invented.items()},
        "invented_ok_without_check": f"{sum(row.invented_unchecked.values())}/{must_refuse}",
        "invented_without_check_by_kind": {
            k: f"{row.invented_unchecked.get(k, 0)}/{v[1]}" for k, v in row.invented.items()
        },
    }


def table(rows: list[dict[str, Any]], split: str) -> str:
    lines = [
        "| split | room | model | utterances | WER (refused = lost) | WER accepted | refused speech "
        "| RTF wall / CPU | invented stored as ok |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        check = " + language check" if r["language_check"] else ""
        rtf = f"{r['rtf_wall']} / {r['rtf_cpu']}"
        if r["language_check"]:
            rtf += f" ({r['rtf_wall_without_check']} / {r['rtf_cpu_without_check']} without the check)"
        lines.append(
            f"| {split} | {r['room']} | {r['model']}{check} | {r['utterances']} | {r['wer']} | {r['wer_accepted']} "
            f"| {r['refused_speech']} | {rtf} | {r['invented_ok']} "
            f"({', '.join(f'{k} {v}' for k, v in r['invented_by_kind'].items())}) |"
        )
    return "\n".join(lines)


def adversarial_table(rows: list[dict[str, Any]], split: str) -> str:
    lines = [
        "| split | room | group | refused | without the check | WER (refused = lost) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        for g, v in r["adversarial_by_group"].items():
            lines.append(
                f"| {split} | {r['room']} | {g} | {v['refused']} | {v['refused_without_check']} | {v['wer']} |"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=Path(".escuta/bench/stt-language"), help="corpus folder (reused)")
    ap.add_argument("--split", choices=["holdout", "tune", "all"], default="holdout")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads of the local model")
    ap.add_argument("--jsonl", type=Path, help="also write one JSON line per clip and route here")
    ap.add_argument("--rooms", default="pt-BR,en", help="the routes to measure, by room language (pt-BR, en)")
    ap.add_argument(
        "--no-adversarial", dest="adversarial", action="store_false", help="leave out the adversarial English"
    )
    args = ap.parse_args()
    clips = [c for c in build(args.corpus) if args.split == "all" or c.split == args.split]
    if not args.adversarial:
        clips = [c for c in clips if c.condition.split()[0] not in ADVERSARIAL]
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
    for room, foreign in [r for r in ROUTES if r[0] in args.rooms.split(",")]:
        r = summary(asyncio.run(run_route(settings, room, foreign, clips, out)))
        rows.append(r)
        print(json.dumps(r), flush=True)
    if out is not None:
        out.close()
    print(table(rows, args.split))
    print(adversarial_table(rows, args.split))
    print(json.dumps({"load_after": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
