"""Burst detection on hand-made clip timelines, boundaries included."""

from __future__ import annotations

import pytest

from core.clips.bursts import BurstSpan, detect_bursts


def spans(times: list[float], interval: float = 60, n: int = 3) -> list[tuple[int, int]]:
    return [(s.first, s.last) for s in detect_bursts(times, interval, n)]


def test_exactly_n_clips_at_exactly_the_interval_is_a_burst() -> None:
    assert spans([0, 30, 60]) == [(0, 2)]


def test_one_second_too_spread_is_not() -> None:
    assert spans([0, 30, 61]) == []


def test_n_minus_one_clips_is_not() -> None:
    assert spans([0, 1]) == []
    assert spans([0, 1, 200, 201]) == []


def test_overlapping_windows_merge() -> None:
    # [0,10,20] and [50,70,100] qualify; [20..70] and [50..100] overlap the first: one burst
    assert spans([0, 10, 20, 50, 70, 100]) == [(0, 5)]


def test_windows_that_only_touch_merge() -> None:
    # windows [0,30,60] and [60,90,120] share the clip at 60
    assert spans([0, 30, 60, 90, 120]) == [(0, 4)]


def test_separate_bursts_stay_separate() -> None:
    assert spans([0, 10, 20, 200, 210, 220]) == [(0, 2), (3, 5)]


def test_quiet_clips_between_bursts_are_not_included() -> None:
    assert spans([0, 10, 20, 100, 300, 310, 320]) == [(0, 2), (4, 6)]


def test_burst_grows_while_clips_keep_coming() -> None:
    times: list[float] = [0, 20, 40]
    assert spans(times) == [(0, 2)]
    for t in (70, 100, 130, 160):
        times.append(t)
        assert spans(times) == [(0, len(times) - 1)]
    times.append(300)  # too late: not part of the burst, and alone it is nothing
    assert spans(times) == [(0, 6)]


def test_simultaneous_clips() -> None:
    assert spans([5, 5, 5]) == [(0, 2)]
    assert detect_bursts([5.0, 5.0, 5.0], 0, 3) == [BurstSpan(0, 2)]


def test_min_clips_must_be_positive() -> None:
    with pytest.raises(ValueError):
        detect_bursts([1.0], 60, 0)
