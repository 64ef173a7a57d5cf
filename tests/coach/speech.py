"""Real speech for the coach tests: espeak-ng voices, resampled and levelled with sox."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from agents.coach.measure import utterance_level

SR = 16_000
Int16 = npt.NDArray[np.int16]
_CACHE = Path(tempfile.gettempdir()) / "escuta-coach-speech"


def need_tools() -> None:
    """The recordings are built with espeak-ng and sox: without them the tests FAIL (never skip), so a
    machine missing them cannot pass the coach suite by not running it."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"the coach tests need {' and '.join(missing)} on PATH (apt-get install espeak-ng sox)", pytrace=False
        )


def espeak(text: str, voice: str = "pt-br", wpm: int = 160, *, ssml: bool = False) -> Path:
    """A 16 kHz mono WAV of `text` (cached by its recipe), trimmed of espeak's edge silence by sox."""
    need_tools()  # before the cache: a cached clip must not hide a missing tool from the next step
    key = hashlib.sha256(f"{voice}|{wpm}|{ssml}|{text}".encode()).hexdigest()[:16]
    out = _CACHE / f"{key}.wav"
    if out.exists():
        return out
    _CACHE.mkdir(parents=True, exist_ok=True)
    raw = out.with_suffix(".raw.wav")
    cmd = ["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw)] + (["-m"] if ssml else []) + [text]
    subprocess.run(cmd, check=True, capture_output=True)
    # Resample to 16 kHz and cut leading/trailing silence, so a clip's span is where it is heard.
    subprocess.run(
        [
            "sox",
            str(raw),
            "-r",
            str(SR),
            "-b",
            "16",
            str(out),
            "silence",
            "1",
            "0.02",
            "0.5%",
            "reverse",
            "silence",
            "1",
            "0.02",
            "0.5%",
            "reverse",
        ],
        check=True,
        capture_output=True,
    )
    raw.unlink()
    return out


def read(path: Path) -> Int16:
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == SR and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)


def gain_for(path: Path, target_dbfs: float) -> float:
    """dB to add so the clip's active speech level becomes `target_dbfs`."""
    return target_dbfs - utterance_level(read(path)).active_dbfs


def duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def build_track(clips: list[tuple[float, Path, float]], length_s: float, out: Path) -> Int16:
    """One participant's track with sox: each (start s, clip, level dBFS) padded to its start and mixed.

    Levels above 0 dBFS active clip, as a shouting participant's microphone does.
    """
    need_tools()
    parts: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (start, clip, level) in enumerate(clips):
            placed = Path(tmp) / f"{k}.wav"
            pad_end = max(0.0, length_s - start - duration(clip))
            subprocess.run(
                [
                    "sox",
                    "-V1",
                    str(clip),
                    str(placed),
                    "vol",
                    f"{gain_for(clip, level):.2f}dB",
                    "pad",
                    f"{start:.3f}",
                    f"{pad_end:.3f}",
                ],
                check=True,
                capture_output=True,
            )
            parts.append(str(placed))
        if not parts:
            subprocess.run(
                ["sox", "-n", "-r", str(SR), "-b", "16", "-c", "1", str(out), "trim", "0", f"{length_s:.3f}"],
                check=True,
                capture_output=True,
            )
        elif len(parts) == 1:
            subprocess.run(
                ["sox", "-V1", parts[0], str(out), "trim", "0", f"{length_s:.3f}"], check=True, capture_output=True
            )
        else:
            # -v 1 on every input: sox -m would otherwise scale each by 1/n.
            args = [a for p in parts for a in ("-v", "1", p)]
            subprocess.run(
                ["sox", "-V1", "-m", *args, str(out), "trim", "0", f"{length_s:.3f}"], check=True, capture_output=True
            )
    return read(out)


def mix(tracks: list[Path], out: Path) -> Int16:
    """The room as one listener hears it (sox mix of every participant's track)."""
    args = [a for p in tracks for a in ("-v", "1", str(p))]
    subprocess.run(["sox", "-V1", "-m", *args, str(out)], check=True, capture_output=True)
    return read(out)
