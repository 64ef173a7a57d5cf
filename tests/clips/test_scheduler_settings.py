"""The settings refuse scheduler timings that would break "a crashed leader is replaced within one interval".

A crashed leader's lease runs out at most ``lease`` seconds after its last renewal, and a follower notices
at its next tick: lease + tick must be shorter than the ingestion interval, or a crash could cost a run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import flat_fields
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
NAMES = (
    "ESCUTA_SCHEDULER_LEASE_SECONDS",
    "ESCUTA_SCHEDULER_TICK_SECONDS",
    "ESCUTA_CLIPS_INGESTION_INTERVAL_SECONDS",
)


@pytest.mark.parametrize(
    ("lease", "tick", "interval"),
    [
        (180.0, 5.0, 180.0),  # the lease alone is a whole interval
        (175.0, 5.0, 180.0),  # lease + tick exactly one interval
        (30.0, 5.0, 20.0),  # the defaults with a shorter interval
        (1.5, 0.1, 1.5),
    ],
)
def test_lease_plus_tick_must_be_shorter_than_the_interval(lease: float, tick: float, interval: float) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(
            scheduler_lease_seconds=lease, scheduler_tick_seconds=tick, clips_ingestion_interval_seconds=interval
        )
    message = str(info.value)
    assert all(name in message for name in NAMES), message
    assert "shorter than" in message


def test_lease_must_outlive_two_ticks() -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(scheduler_lease_seconds=10.0, scheduler_tick_seconds=5.0)
    assert "ESCUTA_SCHEDULER_LEASE_SECONDS must exceed twice ESCUTA_SCHEDULER_TICK_SECONDS" in str(info.value)


@pytest.mark.parametrize(("lease", "tick", "interval"), [(30.0, 5.0, 180.0), (0.8, 0.1, 1.5), (170.0, 5.0, 180.0)])
def test_timings_that_keep_the_guarantee_are_accepted(lease: float, tick: float, interval: float) -> None:
    s = make_settings(
        scheduler_lease_seconds=lease, scheduler_tick_seconds=tick, clips_ingestion_interval_seconds=interval
    )
    assert s.scheduler.lease_seconds + s.scheduler.tick_seconds < s.clips.ingestion_interval_seconds


def test_defaults_keep_the_guarantee() -> None:
    names = ("scheduler_lease_seconds", "scheduler_tick_seconds", "clips_ingestion_interval_seconds")
    defaults = {name: flat_fields()[name].info.default for name in names}
    assert tuple(defaults.values()) == (30, 5, 180)
    make_settings(**defaults)  # accepted


def test_escuta_jobs_refuses_to_start_with_such_timings() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCUTA_")}
    env.update(
        PYTHONPATH=str(ROOT),
        ESCUTA_DATABASE_URL="postgresql://nobody@127.0.0.1:1/never-reached",
        ESCUTA_SCHEDULER_LEASE_SECONDS="200",
    )
    r = subprocess.run(
        [sys.executable, "-m", "escuta.cli", "jobs"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("escuta: invalid setting") and all(name in last for name in NAMES), r.stderr
