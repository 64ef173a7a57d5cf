"""Levels stage on real speech: snapshots against a hand computation with numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents.audio.levels import LevelMeter

from .conftest import Corpus

N = 320  # 20 ms frames


def hand_dbfs(x: np.ndarray) -> float:
    return 10 * math.log10(float(np.mean(x.astype(np.float64) ** 2)) / 32768.0**2)


def test_snapshot_matches_hand_computation(corpus: Corpus) -> None:
    clip = corpus["pt_clean"]
    x = clip.audio[: 12 * 16000]
    meter = LevelMeter(ema_time_constant_s=0.5, mean_window_s=3.0, coverage_window_s=10.0)
    centres = (np.arange(len(x) // N) + 0.5) * N / 16000
    speech = [any(s <= c < e for s, e in clip.segments) for c in centres]
    snaps = []
    for k in range(len(x) // N):
        meter.process(x[k * N : (k + 1) * N])
        meter.mark_speech(N, N if speech[k] else 0)
        if meter.due():
            snaps.append((k, meter.snapshot((k + 1) * N / 16000, speaking=speech[k])))
    assert [round(s.t, 3) for _, s in snaps] == [float(i) for i in range(1, 13)]

    k, snap = snaps[-1]  # t = 12 s: both windows are full
    end = (k + 1) * N
    assert snap.rms_dbfs == pytest.approx(hand_dbfs(x[end - N : end]), abs=0.01)
    assert snap.mean_rms_dbfs == pytest.approx(hand_dbfs(x[end - 3 * 16000 : end]), abs=0.01)
    assert snap.peak_dbfs == pytest.approx(20 * math.log10(np.abs(x[end - 16000 : end].astype(float)).max() / 32768))
    assert snap.speech_coverage == pytest.approx(np.mean(speech[k + 1 - 500 : k + 1]), abs=1e-9)
    assert 0.3 < snap.speech_coverage < 0.9  # the window holds both speech and pauses
    assert snap.clipping_ratio == 0.0

    # EMA of RMS, recomputed from its definition: alpha = 1 - exp(-frame / tau)
    alpha = 1 - math.exp(-N / (0.5 * 16000))
    ema = math.sqrt(np.mean(x[:N].astype(float) ** 2))
    for i in range(1, k + 1):
        ema += alpha * (math.sqrt(np.mean(x[i * N : (i + 1) * N].astype(float) ** 2)) - ema)
    assert snap.ema_rms_dbfs == pytest.approx(20 * math.log10(ema / 32768), abs=0.01)


def test_clipping_ratio_counts_full_scale_samples(corpus: Corpus) -> None:
    x = corpus["en_clean"].audio[16000 : 2 * 16000]  # speech starts at 1.0 s
    loud = np.clip(x.astype(np.int32) * 30, -32768, 32767).astype(np.int16)
    meter = LevelMeter(snapshot_interval_s=1.0)
    for k in range(len(loud) // N):
        meter.process(loud[k * N : (k + 1) * N])
    snap = meter.snapshot(1.0, speaking=True)
    expected = np.count_nonzero(np.abs(loud.astype(np.int32)) >= 32767) / len(loud)
    assert expected > 0.01
    assert snap.clipping_ratio == pytest.approx(expected)
    assert snap.peak_dbfs == pytest.approx(0.0, abs=0.001)


def test_silence_is_floored_not_minus_infinity() -> None:
    meter = LevelMeter()
    for _ in range(50):
        meter.process(np.zeros(N, dtype=np.int16))
    snap = meter.snapshot(1.0, speaking=False)
    assert snap.rms_dbfs == snap.mean_rms_dbfs == snap.ema_rms_dbfs == snap.peak_dbfs == -100.0
