"""Print the events a dialogue script would push to the counter, one JSON line each (offline demo).

    .venv/bin/python -m agents.counter tests/counter/dialogues/04_gripe_hipertenso.txt [--catalog FILE.csv]

A script is ``cliente: ...`` / ``atendente: ...`` lines (the labelled dialogues' format).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from agents.counter.assistant import CounterAssistant
from agents.counter.events import encode_event
from agents.counter.quality import parse_dialogue
from agents.counter.recommender import LocalRecommender
from core.counter.catalog import SAMPLE_CATALOG, CatalogIndex, parse_csv


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("script", type=Path)
    ap.add_argument("--catalog", type=Path, default=SAMPLE_CATALOG)
    ap.add_argument("--atendente", default="")
    args = ap.parse_args()
    rows, errors = parse_csv(args.catalog.read_text(encoding="utf-8"))
    for e in errors:
        print(f"{args.catalog}:{e.line}: {e.field or ''} {e.message}", file=sys.stderr)
    index = CatalogIndex([p for _line, p in rows])
    assistant = CounterAssistant(index, LocalRecommender(index), atendente=args.atendente or None)
    dialogue = parse_dialogue(args.script.stem, args.script.read_text(encoding="utf-8"))
    for segment in dialogue.segments():
        for outcome in await assistant.on_segment(segment):
            print(encode_event(outcome.event))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
