"""Accuracy against the corpus labels: frame-level F1 at 10 ms and utterance boundary errors."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import numpy.typing as npt

FRAME_S = 0.01
Segments = Sequence[tuple[float, float]]


def frame_mask(segments: Segments, duration: float) -> npt.NDArray[np.bool_]:
    """10 ms frames whose centre lies inside a segment."""
    centres = (np.arange(round(duration / FRAME_S)) + 0.5) * FRAME_S
    mask = np.zeros(len(centres), dtype=bool)
    for s, e in segments:
        mask |= (centres >= s) & (centres < e)
    return mask


def frame_f1(ref: Segments, hyp: Segments, duration: float) -> float:
    r, h = frame_mask(ref, duration), frame_mask(hyp, duration)
    tp = int(np.sum(r & h))
    fp = int(np.sum(~r & h))
    fn = int(np.sum(r & ~h))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def boundary_errors(ref: Segments, hyp: Segments) -> tuple[list[float], list[float]]:
    """Per reference utterance, |onset| and |offset| error (ms) against the most overlapping hypothesis."""
    onsets: list[float] = []
    offsets: list[float] = []
    for rs, re in ref:
        best, best_ov = None, 0.0
        for hs, he in hyp:
            ov = min(re, he) - max(rs, hs)
            if ov > best_ov:
                best, best_ov = (hs, he), ov
        if best is not None:
            onsets.append(abs(best[0] - rs) * 1000)
            offsets.append(abs(best[1] - re) * 1000)
    return onsets, offsets


def median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def held_open(
    ref: Segments, hyp: Sequence[tuple[float, float, float]], closing_pause: float, tolerance: float = 0.25
) -> int:
    """Utterances the background held open: cut (`hyp` is `(start, end, cut_at)`) later than `closing_pause +
    tolerance` after the last reference speech they cover, or bridging a reference pause longer than that.

    `tolerance` covers the detector's own lag (Silero's smoothed probability falls ~0.1 s after the words) and
    the window grid; the old chain scores 0 in clean speech with it.
    """
    limit = closing_pause + tolerance
    held = 0
    for start, end, cut_at in hyp:
        covered = [(s, e) for s, e in ref if min(e, end) > max(s, start)]
        if not covered:
            continue
        last = max(e for _, e in covered)
        following = [s for s, _ in ref if s >= last]
        if cut_at > last + limit and (not following or cut_at < min(following)):
            held += 1
        held += sum(1 for (_, e1), (s2, _) in pairwise(covered) if s2 - e1 > limit)
    return held
