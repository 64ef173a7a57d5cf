"""Prosodic features of one utterance with numpy only: F0 track, energy, voiced segments.

Pitch is a normalised autocorrelation per 40 ms frame (10 ms hop), computed for all frames at once
with one FFT, which costs about a millisecond per second of audio. It is not a research-grade
tracker, but the coach only needs robust *statistics* per utterance: how much the pitch moves
(monotone voice), how many voiced nuclei per second (speaking rate, a syllable proxy) and how wide the
energy range is (tension).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

SR = 16_000
FRAME = 640  # 40 ms: two periods of the lowest F0 we track
HOP = 160  # 10 ms
F0_MIN, F0_MAX = 70.0, 400.0
VOICING = 0.45  # normalised autocorrelation peak above which a frame counts as voiced
MIN_VOICED_RUN = 3  # frames (30 ms): shorter voiced blips are not syllable nuclei
SILENCE_DB = 35.0  # frames this far below the utterance's loudest frame are silence


@dataclass(frozen=True, slots=True)
class ProsodyFeatures:
    duration_s: float
    voiced_s: float
    f0_mean_hz: float | None
    f0_std_semitones: float | None  # spread of pitch around its median, in semitones
    f0_range_semitones: float | None  # 10th to 90th percentile
    syllable_rate: float | None  # voiced nuclei per second of speaking time
    energy_range_db: float  # 10th to 90th percentile of voiced-frame energy
    tension: float | None  # 0..1: high, narrow pitch with compressed energy (see `tension_score`)

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _frames(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n = 1 + (len(x) - FRAME) // HOP
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    out: npt.NDArray[np.float64] = x[idx]
    return out


def f0_track(audio: npt.NDArray[np.int16]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per 10 ms frame: F0 in Hz (NaN when unvoiced) and energy in dB."""
    x = audio.astype(np.float64) / 32768.0
    if len(x) < FRAME:
        return np.full(0, np.nan), np.zeros(0)
    fr = _frames(x)
    fr = fr - fr.mean(axis=1, keepdims=True)
    energy = np.einsum("ij,ij->i", fr, fr)
    energy_db = 10.0 * np.log10(energy / FRAME + 1e-12)
    win = fr * np.hanning(FRAME)[None, :]
    spec = np.fft.rfft(win, n=2 * FRAME, axis=1)
    acf = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :FRAME]
    # Divide by the window's own autocorrelation so long lags are not penalised (Boersma's correction).
    wacf = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(FRAME), n=2 * FRAME)) ** 2)[:FRAME]
    norm = acf / (acf[:, :1] + 1e-12) / (wacf / wacf[0] + 1e-12)
    lo, hi = int(SR / F0_MAX), int(SR / F0_MIN)
    band = norm[:, lo:hi]
    lag = np.argmax(band, axis=1)
    peak = band[np.arange(len(band)), lag]
    # Parabolic interpolation of the peak for sub-sample lag resolution.
    k = np.clip(lag, 1, band.shape[1] - 2)
    a, b, c = band[np.arange(len(band)), k - 1], band[np.arange(len(band)), k], band[np.arange(len(band)), k + 1]
    denom = a - 2 * b + c
    shift = np.where(np.abs(denom) > 1e-9, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
    shift = np.clip(shift, -1.0, 1.0)
    f0 = SR / (lo + k + shift)
    loud = energy_db > energy_db.max() - SILENCE_DB
    voiced = (peak > VOICING) & loud
    return np.where(voiced, f0, np.nan), energy_db


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], mask, [False]])
    d = np.diff(padded.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def tension_score(f0_mean: float, range_st: float, energy_range_db: float) -> float:
    """A rough 0..1 tension index: raised pitch, narrow pitch range and compressed energy together.

    Speakers under strain tend to raise F0 and flatten both pitch and loudness dynamics; each factor is
    mapped to 0..1 and averaged. Useful as a trend within one speaker, not across speakers.
    """
    high = min(1.0, max(0.0, (f0_mean - 140.0) / 160.0))
    narrow = min(1.0, max(0.0, (6.0 - range_st) / 6.0))
    flat = min(1.0, max(0.0, (20.0 - energy_range_db) / 20.0))
    return (high + narrow + flat) / 3.0


def analyze(audio: npt.NDArray[np.int16]) -> ProsodyFeatures:
    """Statistics of one utterance (16 kHz mono int16)."""
    duration = len(audio) / SR
    f0, energy_db = f0_track(audio)
    voiced = ~np.isnan(f0)
    runs = [(s, e) for s, e in _runs(voiced) if e - s >= MIN_VOICED_RUN]
    voiced_s = sum(e - s for s, e in runs) * HOP / SR
    if not runs:
        return ProsodyFeatures(duration, 0.0, None, None, None, None, 0.0, None)
    keep = np.zeros_like(voiced)
    for s, e in runs:
        keep[s:e] = True
    hz = f0[keep]
    st = 12.0 * np.log2(hz / np.median(hz))
    # Octave jumps of the tracker would inflate the spread: ignore values beyond +-1 octave.
    st = st[np.abs(st) < 12.0]
    p10, p90 = np.percentile(st, [10, 90])
    e10, e90 = np.percentile(energy_db[keep], [10, 90])
    # Speaking time: from the first to the last voiced nucleus, so leading/trailing silence is excluded.
    span = (runs[-1][1] - runs[0][0]) * HOP / SR
    rate = len(runs) / span if span > 0.5 else None
    f0_mean = float(np.mean(hz))
    range_st = float(p90 - p10)
    energy_range = float(e90 - e10)
    return ProsodyFeatures(
        duration_s=duration,
        voiced_s=voiced_s,
        f0_mean_hz=f0_mean,
        f0_std_semitones=float(np.std(st)),
        f0_range_semitones=range_st,
        syllable_rate=rate,
        energy_range_db=energy_range,
        tension=tension_score(f0_mean, range_st, energy_range) if math.isfinite(f0_mean) else None,
    )
