"""Fixtures: the constructed meetings (built once per run) and the replay of two through the coach."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from agents.coach.engine import MeetingCoach
from agents.coach.prosody.local import LocalProsody
from agents.coach.runner import CoachRunner, Collected
from tests.coach.meetings import (
    CONTROL,
    CONTROL_LENGTH,
    LIVE,
    LIVE_LENGTH,
    PROBLEM,
    PROBLEM_LENGTH,
    Meeting,
    build,
    join_all,
    replay,
)
from tests.coach.speech import need_tools


@dataclass
class Replayed:
    meeting: Meeting
    out: Collected
    coach: MeetingCoach


@pytest.fixture(scope="session")
def problem_meeting(tmp_path_factory: pytest.TempPathFactory) -> Meeting:
    need_tools()
    return build(PROBLEM, PROBLEM_LENGTH, tmp_path_factory.mktemp("problem"))


@pytest.fixture(scope="session")
def control_meeting(tmp_path_factory: pytest.TempPathFactory) -> Meeting:
    need_tools()
    return build(CONTROL, CONTROL_LENGTH, tmp_path_factory.mktemp("control"))


@pytest.fixture(scope="session")
def live_meeting(tmp_path_factory: pytest.TempPathFactory) -> Meeting:
    return build(LIVE, LIVE_LENGTH, tmp_path_factory.mktemp("live"))


async def run_meeting(meeting: Meeting, *, host: str | None = "ana", hosts: tuple[str, ...] = ()) -> Replayed:
    coach = MeetingCoach("RM_test")
    out = Collected.empty()
    runner = CoachRunner(coach, out, prosody=LocalProsody())
    join_all(runner, meeting, host=host)
    for extra in hosts:
        runner.join(extra, metadata='{"roles":["host"]}')
    replay(runner, meeting)
    await runner.aclose()
    return Replayed(meeting, out, coach)


@pytest.fixture(scope="session")
async def problem(problem_meeting: Meeting) -> Replayed:
    return await run_meeting(problem_meeting)


@pytest.fixture(scope="session")
async def control(control_meeting: Meeting) -> Replayed:
    return await run_meeting(control_meeting)
