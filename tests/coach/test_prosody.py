"""Local prosody on espeak-ng voices: a monotone voice (SSML pitch range x-low) and a fast one are flagged,
a varied one at a normal pace is not."""

from __future__ import annotations

import pytest

from agents.audio.events import SpeechEnded, SpeechStarted
from agents.coach.engine import MeetingCoach
from agents.coach.prosody.base import ProsodyResult, Utterance
from agents.coach.prosody.features import analyze
from agents.coach.prosody.local import LocalProsody
from agents.coach.runner import CoachRunner, Collected
from tests.coach.speech import Int16, espeak, read

TEXT = "Bom dia a todos. Hoje vamos falar sobre o orçamento do próximo trimestre, e quero ouvir a opinião de cada um!"


def voice(range_: str | None = None, wpm: int = 160) -> Int16:
    text = f'<speak><prosody range="{range_}">{TEXT}</prosody></speak>' if range_ else TEXT
    return read(espeak(text, "pt-br", wpm, ssml=range_ is not None))


@pytest.fixture(scope="module")
def voices() -> dict[str, Int16]:
    return {"monotone": voice("x-low"), "varied": voice("x-high"), "plain": voice(), "fast": voice(wpm=330)}


def test_features_separate_monotone_from_varied(voices: dict[str, Int16]) -> None:
    f = {k: analyze(v) for k, v in voices.items()}
    mono, varied, plain = f["monotone"], f["varied"], f["plain"]
    assert mono.f0_range_semitones is not None and varied.f0_range_semitones is not None
    assert plain.f0_range_semitones is not None
    assert mono.f0_range_semitones < 2.0 < plain.f0_range_semitones < varied.f0_range_semitones
    # The same words at twice the pace: twice the voiced nuclei per second.
    assert f["fast"].syllable_rate is not None and plain.syllable_rate is not None
    assert f["fast"].syllable_rate > 5.0 > plain.syllable_rate
    assert 0.0 <= (mono.tension or 0.0) <= 1.0
    # espeak's default male voice: about 100 Hz.
    assert plain.f0_mean_hz is not None and 80 < plain.f0_mean_hz < 140


async def feed(audio: Int16, repeats: int = 3) -> list[str]:
    coach = MeetingCoach("m")
    out = Collected.empty()
    runner = CoachRunner(coach, out, prosody=LocalProsody())
    runner.join("h", metadata={"roles": ["host"]})
    runner.join("p", name="Paulo")
    t = 1.0
    for _ in range(repeats):
        end = t + len(audio) / 16000
        runner.on_event("p", SpeechStarted(start=t, detected_at=t + 0.1))
        runner.on_event(
            "p", SpeechEnded(start=t, end=end, detected_at=end + 0.5, reason="pause", audio=audio, audio_start=t)
        )
        t = end + 1.0
    await runner.aclose()
    assert len(out.results) == repeats and all(r.provider == "local" for r in out.results)
    return [f"{d.feedback.type}:{d.feedback.participant_id}" for d in out.deliveries]


async def test_monotone_voice_is_flagged(voices: dict[str, Int16]) -> None:
    assert await feed(voices["monotone"]) == ["tom_monotono:p"]


async def test_varied_voice_is_not_flagged(voices: dict[str, Int16]) -> None:
    assert await feed(voices["varied"]) == []
    assert await feed(voices["plain"]) == []


async def test_fast_speech_is_flagged(voices: dict[str, Int16]) -> None:
    assert await feed(voices["fast"], repeats=4) == ["fala_acelerada:p"]


def test_short_utterances_are_skipped() -> None:
    got: list[ProsodyResult] = []
    stream = LocalProsody().stream("p", got.append)
    audio = voice()[:8000]  # 0.5 s
    stream.push(Utterance("p", 0.0, 0.5, audio, 0.0))
    assert got == []


def test_provider_is_chosen_by_configuration() -> None:
    from agents.coach.prosody import build_prosody
    from agents.coach.prosody.hume import HumeProsody
    from tests.conftest import make_settings

    assert isinstance(build_prosody(make_settings()), LocalProsody)
    assert build_prosody(make_settings(coach_prosody_provider="off")) is None
    hume = build_prosody(
        make_settings(coach_prosody_provider="hume", hume_realtime_url="ws://127.0.0.1:1/x"), hume_api_key="k"
    )
    assert isinstance(hume, HumeProsody) and hume.url == "ws://127.0.0.1:1/x"
    with pytest.raises(ValueError, match="credential"):
        build_prosody(make_settings(coach_prosody_provider="hume"))
