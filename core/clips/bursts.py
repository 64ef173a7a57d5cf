"""Burst detection: many clips of one streamer in a short window means something happened.

Definition (seed 004, made exact):

* a *window* is a run of a streamer's clips, ordered by creation time, whose first and last clips are at
  most ``interval`` seconds apart (inclusive: N clips exactly ``interval`` apart qualify);
* a window *qualifies* when it holds at least ``min_clips`` clips;
* qualifying windows that overlap or touch in time (the later one starts no later than the earlier one
  ends) merge into one *burst*, so a burst is a contiguous run of clips and it keeps growing while
  clips keep coming close enough together.

This module is pure (no I/O) so the same function serves ingestion, the CSV import and the benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BurstSpan:
    """Clips ``first..last`` (inclusive indices into the sorted input) form one burst."""

    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def detect_bursts(times: Sequence[float], interval: float, min_clips: int) -> list[BurstSpan]:
    """Bursts in ``times`` (epoch seconds, ascending). O(n): a sliding window with two indices."""
    if min_clips < 1:
        raise ValueError("min_clips must be at least 1")
    spans: list[BurstSpan] = []
    lo = 0
    start = end = -1  # the burst being built, as clip indices; -1 = none
    for hi, t in enumerate(times):
        # Subtracting nearby floats is exact, so the inclusive boundary really is inclusive.
        while t - times[lo] > interval:
            lo += 1
        if hi - lo + 1 < min_clips:
            continue
        if end >= 0 and times[lo] <= times[end]:
            end = hi  # this window overlaps the current burst: the burst grows
        else:
            if end >= 0:
                spans.append(BurstSpan(start, end))
            start, end = lo, hi
    if end >= 0:
        spans.append(BurstSpan(start, end))
    return spans
