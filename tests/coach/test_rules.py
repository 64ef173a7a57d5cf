"""Rule mechanics on real utterances: hysteresis, cooldown, escalation, hosts, per-organization thresholds."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from agents.audio.events import SpeechEnded, SpeechStarted
from agents.coach.engine import MeetingCoach
from agents.coach.feedback import Delivery
from agents.coach.participants import parse_participant
from core.settings.coach import CoachThresholds
from tests.coach.speech import Int16, espeak, gain_for, read
from tests.conftest import make_settings

SENTENCE = "Eu tenho uma pergunta sobre o cronograma do projeto."


@pytest.fixture(scope="module")
def speech() -> Int16:
    return read(espeak(SENTENCE, "pt-br+m3"))


def at_level(x: Int16, path_level: float, target: float) -> Int16:
    g = 10 ** ((target - path_level) / 20)
    return np.clip(np.round(x.astype(np.float64) * g), -32768, 32767).astype(np.int16)


@pytest.fixture(scope="module")
def levels(speech: Int16) -> dict[str, Int16]:
    base = -gain_for(espeak(SENTENCE, "pt-br+m3"), 0.0)  # the clip's own active level
    return {name: at_level(speech, base, db) for name, db in (("quiet", -42.0), ("normal", -22.0), ("mid", -34.0))}


def say(coach: MeetingCoach, who: str, start: float, audio: Int16) -> list[Delivery]:
    end = start + len(audio) / 16000
    out = coach.on_event(who, SpeechStarted(start=start, detected_at=start + 0.1))
    return out + coach.on_event(
        who, SpeechEnded(start=start, end=end, detected_at=end + 0.5, reason="pause", audio=audio, audio_start=start)
    )


def kinds(ds: list[Delivery]) -> list[str]:
    return [d.feedback.type for d in ds]


def test_hysteresis_needs_the_condition_to_clear(levels: dict[str, Int16]) -> None:
    coach = MeetingCoach("m", CoachThresholds(cooldown_seconds=0.0))
    coach.join("h", metadata={"roles": ["host"]})
    assert kinds(say(coach, "b", 0.0, levels["quiet"])) == ["volume_baixo"]
    # Still quiet: no repeat, even with no cooldown at all.
    assert say(coach, "b", 5.0, levels["quiet"]) == []
    # Between the threshold (-36) and the exit bound (-32): holds, does not re-arm.
    assert say(coach, "b", 10.0, levels["mid"]) == []
    assert say(coach, "b", 15.0, levels["quiet"]) == []
    # A normal utterance clears it; the next quiet stretch fires again.
    assert say(coach, "b", 20.0, levels["normal"]) == []
    assert kinds(say(coach, "b", 25.0, levels["quiet"])) == ["volume_baixo"]


def test_cooldown_suppresses_repeats_until_it_passes(levels: dict[str, Int16]) -> None:
    coach = MeetingCoach("m", CoachThresholds(cooldown_seconds=30.0))
    coach.join("h", metadata={"roles": ["host"]})
    fired = [say(coach, "b", 0.0, levels["quiet"])]
    for t in (5.0, 15.0):  # re-armed by a normal utterance each time, but inside the cooldown
        say(coach, "b", t, levels["normal"])
        fired.append(say(coach, "b", t + 4.0, levels["quiet"]))
    say(coach, "b", 35.0, levels["normal"])
    fired.append(say(coach, "b", 40.0, levels["quiet"]))  # 40 s after the first: allowed again
    assert [kinds(f) for f in fired] == [["volume_baixo"], [], [], ["volume_baixo"]]


def test_short_quiet_words_do_not_fire(levels: dict[str, Int16]) -> None:
    coach = MeetingCoach("m")
    word = levels["quiet"][: 16000 * 1]  # 1 s: under the 3 s of speech the rule wants
    assert say(coach, "b", 0.0, word) == []
    assert say(coach, "b", 3.0, word) == []
    assert kinds(say(coach, "b", 6.0, word)) == ["volume_baixo"]  # 3 s judged in a row


def test_overlap_by_a_host_is_not_reported_about_the_host(levels: dict[str, Int16]) -> None:
    coach = MeetingCoach("m")
    coach.join("h", metadata='{"roles":["host"]}')
    coach.join("p", name="Paula")
    say(coach, "p", 0.0, levels["normal"])
    assert "overlap_fala" not in kinds(say(coach, "h", 0.5, levels["normal"]))  # the host talked over Paula
    out = say(coach, "p", 10.5, levels["normal"])
    assert out == []
    later = say(coach, "p", 20.0, levels["normal"])
    assert later == []
    # Paula talks over another participant: reported about her, to the host.
    coach.join("q", name="Quim")
    say(coach, "q", 30.0, levels["normal"])
    ov = [d for d in say(coach, "p", 30.5, levels["normal"]) if d.feedback.type == "overlap_fala"]
    assert len(ov) == 1 and ov[0].feedback.participant_id == "p" and ov[0].recipients == ("h",)
    assert ov[0].feedback.message == "Paula e Quim estão falando ao mesmo tempo."


def test_monologue_escalates_once_through_the_cooldown(levels: dict[str, Int16]) -> None:
    coach = MeetingCoach("m", CoachThresholds(monologue_seconds=10.0, cooldown_seconds=600.0))
    seg = levels["normal"]
    events: list[str] = []
    t = 0.0
    while t < 25.0:  # utterances 0.5 s apart: one turn
        events += [f"{d.feedback.type}:{d.feedback.severity}" for d in say(coach, "d", t, seg)]
        t += len(seg) / 16000 + 0.5
    assert events == ["monologo_prolongado:warning", "monologo_prolongado:critical"]


def test_host_roles_come_from_token_metadata() -> None:
    assert parse_participant("a", '{"roles":["host"],"name":"Ana"}').is_host
    assert parse_participant("a", '{"roles":["host"],"name":"Ana"}').name == "Ana"
    assert not parse_participant("a", '{"roles":"host"}').is_host  # not a list
    assert not parse_participant("a", "not json{").is_host
    assert not parse_participant("a", None, "Ana").is_host and parse_participant("a", None, "Ana").name == "Ana"


def test_organization_overrides_and_hysteresis_validation() -> None:
    settings = make_settings(coach_silence_seconds=12.0)
    th = settings.coach.thresholds_for({"monologue_seconds": 90.0})
    assert th.silence_seconds == 12.0 and th.monologue_seconds == 90.0 and th.volume_low_dbfs == -36.0
    with pytest.raises(ValidationError):
        settings.coach.thresholds_for({"no_such_threshold": 1})
    with pytest.raises(ValidationError):
        CoachThresholds(volume_low_dbfs=-30.0, volume_low_exit_dbfs=-35.0)  # exit below entry: no hysteresis


def test_an_utterance_judged_background_is_not_the_participants(levels: dict[str, Int16]) -> None:
    # The TV behind the participant (issue 19): the chain emits it with a `background` verdict. It closes
    # what its SpeechStarted opened and counts for nothing: the same quiet speech judged near fires.
    from agents.audio.events import BackgroundVerdict

    def tv(coach: MeetingCoach, start: float) -> list[Delivery]:
        audio = levels["quiet"]
        end = start + len(audio) / 16000
        verdict = BackgroundVerdict("background", 0.05, 1.0, -45.0)
        out = coach.on_event("b", SpeechStarted(start=start, detected_at=start + 0.1))
        ev = SpeechEnded(start, end, end + 0.5, "background", audio, start, background=verdict)
        return out + coach.on_event("b", ev)

    coach = MeetingCoach("m")
    coach.join("h", metadata={"roles": ["host"]})
    assert [tv(coach, t) for t in (0.0, 5.0, 10.0)] == [[], [], []]
    st = coach.participants["b"]
    assert st.open_start is None and not st.recent and st.last_end is None
    assert kinds(say(coach, "b", 15.0, levels["quiet"])) == ["volume_baixo"]
