"""Real speech for transcription tests and the worker benchmark: espeak-ng sentences, sox-resampled."""

from __future__ import annotations

import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer
import numpy as np

SR = 16_000
Int16 = np.ndarray[Any, np.dtype[np.int16]]

# Sentences the tiny English Whisper model is expected to hear; one espeak-ng voice for all of them.
SCRIPT_EN = [
    "Good morning everyone and thanks for joining the meeting today.",
    "Let us look at the numbers from the last quarter.",
    "The new release is planned for the end of the month.",
    "Does anyone have questions about the budget?",
    "Then we can move on to the next topic.",
]
SCRIPT_B = [
    "I have a question about the schedule.",
    "Can we talk about the design review next week?",
]


def espeak(text: str, *, voice: str = "en-us", wpm: int = 150) -> Int16:
    """One sentence as 16 kHz mono int16, leading and trailing silence trimmed."""
    with tempfile.TemporaryDirectory() as d:
        raw, out = Path(d) / "raw.wav", Path(d) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", str(SR), "-c", "1", "-b", "16", str(out)], check=True)
        with wave.open(str(out)) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    voiced = np.flatnonzero(np.abs(x) > 100)
    return x[voiced[0] : voiced[-1] + 1].copy() if len(voiced) else x.copy()


@dataclass
class Recording:
    audio: Int16
    spans: list[tuple[float, float]]  # where each sentence is, in seconds
    texts: list[str]


def recording(texts: list[str], *, lead: float = 0.8, gap: float = 1.0, voice: str = "en-us") -> Recording:
    parts: list[Int16] = [np.zeros(int(lead * SR), np.int16)]
    spans, pos = [], int(lead * SR)
    for t in texts:
        clip = espeak(t, voice=voice)
        spans.append((pos / SR, (pos + len(clip)) / SR))
        parts += [clip, np.zeros(int(gap * SR), np.int16)]
        pos += len(clip) + int(gap * SR)
    return Recording(np.concatenate(parts), spans, texts)


def place(rec: Recording, *, start: float, total: float) -> Recording:
    """`rec` shifted to begin at `start` inside `total` seconds of silence."""
    out = np.zeros(int(total * SR), np.int16)
    i = int(start * SR)
    n = min(len(rec.audio), len(out) - i)
    out[i : i + n] = rec.audio[:n]
    return Recording(out, [(a + start, b + start) for a, b in rec.spans], rec.texts)


def write_wav(path: Path, channels: list[Int16]) -> Path:
    n = max(len(c) for c in channels)
    data = np.zeros((n, len(channels)), np.int16)
    for i, c in enumerate(channels):
        data[: len(c), i] = c
    with wave.open(str(path), "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(data.tobytes())
    return path


NORMALIZE = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),  # type: ignore[no-untyped-call]
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)


def wer(ref: list[str], hyp: list[str]) -> float:
    return float(jiwer.wer(" ".join(ref), " ".join(hyp), reference_transform=NORMALIZE, hypothesis_transform=NORMALIZE))
