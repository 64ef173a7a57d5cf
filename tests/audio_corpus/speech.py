"""espeak-ng sentences at 16 kHz, the corpus' source of speech (near speakers, babble, TV, vocals)."""

from __future__ import annotations

import math
import subprocess
import tempfile
import wave

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

SR = 16_000
F64 = npt.NDArray[np.float64]


def espeak(voice: str, wpm: int, text: str, pitch: int = 50) -> F64:
    """One sentence from espeak-ng, at 16 kHz. The rate is read from the WAV header, never assumed: a
    hard-coded 160/441 once turned espeak's 22,050 Hz into 8 kHz played at 16 kHz (twice as fast, an octave
    up). Checked against `espeak-ng -w | sox -r 16000`: same length to the sample, correlation 1.000.
    `pitch` is espeak-ng's `-p` (0-99, default 50)."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        cmd = ["espeak-ng", "-v", voice, "-s", str(wpm), "-w", f.name]
        if pitch != 50:
            cmd += ["-p", str(pitch)]
        subprocess.run([*cmd, text], check=True)
        with wave.open(f.name, "rb") as w:
            if (w.getnchannels(), w.getsampwidth()) != (1, 2):
                raise RuntimeError(f"espeak-ng wrote {w.getnchannels()} ch x {w.getsampwidth() * 8} bit; want mono 16")
            rate = w.getframerate()  # 22,050 Hz for every espeak-ng voice
            data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    g = math.gcd(SR, rate)
    return np.asarray(resample_poly(data, SR // g, rate // g), dtype=np.float64)  # 22050 * 320/441 = 16 kHz


def trim(x: F64, thresh: float = 100.0) -> F64:
    """Drop espeak's leading/trailing silence, so the clip's span is its voiced extent."""
    idx = np.flatnonzero(np.abs(x) > thresh)
    return x[idx[0] : idx[-1] + 1] if len(idx) else x[:0]
