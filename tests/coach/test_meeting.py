"""The coach on constructed multi-speaker recordings: each problem flagged, a good meeting left alone,
hosts never the subject and the only recipients."""

from __future__ import annotations

import json
import re

from tests.coach.conftest import Replayed, run_meeting
from tests.coach.meetings import Meeting

PAYLOAD_KEYS = {"id", "type", "severity", "ts", "meetingId", "participantId", "window", "message", "tips", "metadata"}
FIVE = {"volume_baixo", "volume_alto", "silencio_prolongado", "overlap_fala", "monologo_prolongado"}


def about(r: Replayed) -> dict[str, set[str | None]]:
    out: dict[str, set[str | None]] = {}
    for d in r.out.deliveries:
        out.setdefault(d.feedback.type, set()).add(d.feedback.participant_id)
    return out


def test_each_problem_fires_about_the_right_participant(problem: Replayed) -> None:
    assert about(problem) == {
        "volume_baixo": {"bruno"},
        "volume_alto": {"carla"},
        "overlap_fala": {"fabio"},  # Fábio started while Eva was speaking
        "monologo_prolongado": {"davi"},
        "silencio_prolongado": {None},  # about the meeting, not a person
    }
    by_type = {d.feedback.type: d.feedback for d in problem.out.deliveries}
    # Windows sit where the recording put each situation (seconds on the session clock).
    assert 5.0 <= by_type["volume_baixo"].window_start < by_type["volume_baixo"].window_end <= 13.0
    assert 14.0 <= by_type["volume_alto"].window_start < by_type["volume_alto"].window_end <= 21.0
    assert by_type["volume_alto"].metadata["clippingRatio"] > 0.002
    ov = by_type["overlap_fala"]
    assert 24.3 <= ov.window_start <= 25.0 and ov.metadata["overlapSeconds"] >= 1.5
    assert ov.metadata["otherParticipantId"] == "eva"
    mono = by_type["monologo_prolongado"]
    assert 30.5 <= mono.window_start <= 31.5 and mono.window_end - mono.window_start >= 45.0
    sil = by_type["silencio_prolongado"]
    assert 90.0 <= sil.window_start <= 93.0 and sil.window_end - sil.window_start >= 20.0


def test_payload_is_seed_002s(problem: Replayed) -> None:
    origin = 1_731_368_500.0
    for d in problem.out.deliveries:
        p = d.feedback.payload(origin)
        assert set(p) == PAYLOAD_KEYS
        assert set(p["window"]) == {"start", "end"} and p["window"]["start"] <= p["window"]["end"] <= p["ts"]
        assert p["id"].startswith("fb-") and p["meetingId"] == "RM_test"
        assert isinstance(p["ts"], int) and p["ts"] > 1_731_368_500_000
        assert {"rmsDbfs", "speechCoverage"} <= set(p["metadata"]) and p["tips"]
        json.loads(d.feedback.to_json(origin))  # serialisable as sent
    names = {"bruno": "Bruno", "carla": "Carla", "fabio": "Fábio", "davi": "Davi"}
    for d in problem.out.deliveries:
        pid = d.feedback.participant_id
        if pid is not None:
            assert d.feedback.message.startswith(names[pid]), d.feedback.message  # names the participant
    messages = " ".join(d.feedback.message for d in problem.out.deliveries)
    assert re.search(r"volume baixo|volume alto|ao mesmo tempo|Silêncio prolongado|sem pausa", messages)


def test_a_window_never_ends_after_the_event_was_sent(problem: Replayed) -> None:
    # The audio clock can run a few ms ahead of the wall clock (frames delivered in a burst): sent
    # "early" by that clock, the payload's window is clamped to `ts`, never after it.
    origin = 1_731_368_500.0
    d = problem.out.deliveries[0].feedback
    early = origin + d.window_end - 0.007
    p = d.payload(origin, sent_at=early)
    assert p["ts"] == round(early * 1000) and p["window"]["end"] == p["ts"]
    assert p["window"]["start"] == round((origin + d.window_start) * 1000) < p["window"]["end"]
    on_time = d.payload(origin, sent_at=origin + d.window_end + 0.5)
    assert on_time["window"]["end"] == round((origin + d.window_end) * 1000) < on_time["ts"]


def test_only_the_host_receives_and_is_never_the_subject(problem: Replayed) -> None:
    assert problem.out.deliveries
    for d in problem.out.deliveries:
        assert d.recipients == ("ana",)
        assert d.feedback.participant_id != "ana"


def test_severity_levels(problem: Replayed) -> None:
    sev = {d.feedback.type: d.feedback.severity for d in problem.out.deliveries}
    # 26 dB too quiet and clipping are "critical"; a 2 s overlap and a 46 s turn are "warning".
    assert sev["volume_baixo"] == "critical" and sev["volume_alto"] == "critical"
    assert sev["overlap_fala"] == "warning" and sev["monologo_prolongado"] == "warning"


def test_well_behaved_meeting_fires_nothing(control: Replayed) -> None:
    assert control.out.deliveries == []
    assert control.coach.history == []
    # ...although the coach was listening: every non-host utterance got local prosody.
    assert {r.participant_id for r in control.out.results} == {"bruno", "carla", "davi", "eva", "fabio"}


async def test_without_a_host_events_are_recorded_but_not_sent(problem_meeting: Meeting) -> None:
    r = await run_meeting(problem_meeting, host=None)
    assert {f.type for f in r.coach.history} >= FIVE
    assert r.out.deliveries and all(d.recipients == () for d in r.out.deliveries)


async def test_several_hosts_receive_and_are_never_judged(problem_meeting: Meeting) -> None:
    # Bruno (the quiet one) and Davi (the monologue) are hosts too: nothing about them, all to three hosts.
    r = await run_meeting(problem_meeting, hosts=("bruno", "davi"))
    subjects = {d.feedback.participant_id for d in r.out.deliveries}
    assert "bruno" not in subjects and "davi" not in subjects and "ana" not in subjects
    assert {d.feedback.type for d in r.out.deliveries} == {"volume_alto", "overlap_fala", "silencio_prolongado"}
    assert all(d.recipients == ("ana", "bruno", "davi") for d in r.out.deliveries)
    # No prosody was computed about hosts either.
    assert not {x.participant_id for x in r.out.results} & {"ana", "bruno", "davi"}
