"""The reliability suite's figures (attempts, leaks, inputs, data lost), merged into one JSON file that
docs/security.md quotes: `tests/output/reliability.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parents[1] / "output" / "reliability.json"


def record(section: str, figures: dict[str, Any]) -> None:
    OUTPUT.parent.mkdir(exist_ok=True)
    current: dict[str, Any] = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else {}
    current[section] = figures
    OUTPUT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    print(f"{section}: {json.dumps(figures, sort_keys=True)}")
