"""How many concurrent streams one core sustains: what the audio-core and worker benches both search for."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def pin_to_one_cpu() -> int:
    """Pin this process to the last CPU it may use (so N is "per core"); returns that CPU."""
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    return cpu


def largest_passing(
    trial: Callable[[int], T], passed: Callable[[T], bool], better: Callable[[T, T], T], start: int, limit: int
) -> tuple[int, T | None, list[tuple[int, T]]]:
    """The largest N whose trial passes: N doubles from `start` until a trial fails (or `limit`), then
    bisects until the bracket is within ~10 %. Returns that N (0 if none), its trial, and every trial.

    Other users share this machine: a failed trial is run once more and `better(first, again)` kept.
    """
    trials: list[tuple[int, T]] = []
    best: T | None = None
    lo, hi, n = 0, None, start
    while True:
        r = trial(n)
        if not passed(r):
            r = better(r, trial(n))
        trials.append((n, r))
        if passed(r):
            lo, best = n, r
        else:
            hi = n
        if hi is None:
            if n >= limit:
                return lo, best, trials
            n = min(limit, n * 2)
        elif hi - lo <= max(2, lo // 10):
            return lo, best, trials
        else:
            n = (lo + hi) // 2
