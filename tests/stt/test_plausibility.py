"""The plausibility rules on their own (pure), and on real audio through the bundled local models."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from livekit import rtc

from bench import language_corpus as corpus
from stt import FallbackTranscriber, build_providers
from stt.local_whisper import to_float_16k
from stt.models import upcoming_shutdowns, warn_model_shutdowns
from stt.plausibility import Rules, Signals, judge, normalize_text
from stt.providers import language_check
from tests.conftest import make_settings
from tests.transcription.speech import SR, espeak

CONFIDENT = Signals(avg_logprob=-0.3, no_speech_prob=0.05, compression_ratio=1.1, temperature=0.0)


def verdict(text: str, signals: Signals | None = CONFIDENT, **kw: str | None) -> str | None:
    found = judge(
        provider=kw.get("provider") or "local",
        text=text,
        requested_language=kw.get("requested"),
        reported_language=kw.get("reported"),
        signals=signals,
        rules=Rules(),
    )
    return found.kind if found else None


def test_a_confident_answer_and_an_empty_one_are_plausible() -> None:
    assert verdict("I would like something for a headache.") is None
    assert verdict("Bom dia, eu queria um remédio.", requested="pt-BR", reported="pt") is None
    assert verdict("", Signals(avg_logprob=-3.0, no_speech_prob=0.99)) is None  # nothing claimed


def test_known_inventions_are_hallucinations_whatever_the_confidence() -> None:
    assert verdict("Thank you for watching!") == "hallucination"
    assert verdict("If you like this video, please subscribe.") == "hallucination"
    assert verdict("Legendas pela comunidade Amara.org") == "hallucination"
    assert verdict("Inscreva-se no canal!", provider="openai", signals=None) == "hallucination"
    assert verdict("[Music]") == "hallucination" and verdict("♪ ♪") == "hallucination"
    assert verdict(". . . . . .") == "hallucination"  # no words at all
    assert verdict("I'm here, " * 12, Signals(avg_logprob=-0.4, compression_ratio=3.1)) == "hallucination"
    # A cloud provider without Whisper's habits is not judged on Whisper's phrases.
    assert verdict("Thank you for watching", provider="elevenlabs", signals=None) is None


def test_a_stock_phrase_alone_needs_speech_evidence() -> None:
    assert verdict("Obrigado.", Signals(avg_logprob=-0.4, no_speech_prob=0.1)) is None  # said at every counter
    assert verdict("Obrigado.", Signals(avg_logprob=-0.4, no_speech_prob=0.45)) == "hallucination"


def test_whisper_signals_that_say_it_was_guessing() -> None:
    assert verdict("We will be in the future.", Signals(avg_logprob=-1.4)) == "low_confidence"
    assert verdict("Hello there.", Signals(avg_logprob=-0.8, no_speech_prob=0.7)) == "low_confidence"
    assert verdict("Hello there.", Signals(avg_logprob=-0.3, no_speech_prob=0.7)) is None  # quiet but sure


def test_another_language_than_the_rooms_is_refused() -> None:
    assert verdict("Hello.", requested="pt-BR", reported="en") == "language_unsupported"
    # The same language however the provider spells it: ISO 639-1, 639-3, or with a region.
    assert verdict("Olá.", requested="pt-BR", reported="por") is None
    assert verdict("Olá.", requested="pt", reported="pt-PT") is None
    assert verdict("Olá.", requested=None, reported="en") is None  # a room with no language set


def test_an_english_only_answer_the_language_check_finds_unlikely_english_is_refused() -> None:
    # Portuguese to tiny.en, as fluent as real English by tiny.en's own signals: only the check tells.
    fluent = Signals(avg_logprob=-0.65, no_speech_prob=0.16, compression_ratio=0.9)
    assert verdict("Or if I can look at it at all, no peeks.", fluent) is None
    unlikely = Signals(avg_logprob=-0.65, no_speech_prob=0.16, compression_ratio=0.9, english_probability=0.21)
    assert verdict("Or if I can look at it at all, no peeks.", unlikely) == "language_unsupported"
    likely = Signals(avg_logprob=-0.65, no_speech_prob=0.16, compression_ratio=0.9, english_probability=0.55)
    assert verdict("This antibiotic needs a prescription.", likely) is None
    found = judge(
        provider="local",
        text="Hello there",
        requested_language="en",
        reported_language="en",
        signals=unlikely,
        rules=Rules(),
    )
    assert found is not None and "0.21 < 0.4" in found.detail and "Hello" not in found.detail


def test_unlikely_english_the_check_is_sure_is_an_unexpected_language_is_kept_as_misheard_english() -> None:
    # The tune half's cases (bench/stt_language.py): noisy espeak-ng English `base` takes for Swedish (P(en)
    # 0.03, P(sv) 0.72) is kept; Portuguese tiny.en made English of, where `base` is sure of no language
    # (ja 0.18), and Portuguese or Spanish however sure, are refused.
    def signals(english: float, unexpected: float | None) -> Signals:
        return Signals(
            avg_logprob=-0.8,
            no_speech_prob=0.1,
            compression_ratio=1.0,
            english_probability=english,
            unexpected_language_probability=unexpected,
        )

    text = "Do you have this medicine in August?"
    assert verdict(text, signals(0.03, 0.72)) is None
    assert verdict(text, signals(0.10, 0.18)) == "language_unsupported"
    assert verdict(text, signals(0.03, 0.0)) == "language_unsupported"  # the top one is pt or es: expected
    assert verdict(text, signals(0.03, None)) == "language_unsupported"
    assert verdict(text, signals(0.39, 0.51)) is None  # surer of it than of all others together
    assert verdict(text, signals(0.39, 0.5)) == "language_unsupported"  # only as sure: not sure
    strict = Rules(unexpected_language_probability=1.0)
    found = judge(
        provider="local",
        text=text,
        requested_language="en",
        reported_language="en",
        signals=signals(0.03, 0.72),
        rules=strict,
    )
    assert found is not None and found.kind == "language_unsupported"


def test_signals_travel_in_the_speech_metadata() -> None:
    s = Signals(
        avg_logprob=-0.5,
        no_speech_prob=0.2,
        compression_ratio=1.3,
        temperature=0.2,
        english_probability=0.7,
        unexpected_language_probability=0.0,
    )
    assert Signals.from_metadata(s.as_metadata()) == s
    assert Signals.from_metadata({"other": 1}) is None and Signals.from_metadata(None) is None
    assert normalize_text("Inscreva-se, no CANAL!") == "inscreva se no canal"


def frame(x: np.ndarray) -> rtc.AudioFrame:  # type: ignore[type-arg]
    return rtc.AudioFrame(x.astype(np.int16).tobytes(), SR, 1, len(x))


async def outcome_of(language: str, audio: rtc.AudioFrame, **settings_: Any) -> tuple[str, str | None, str]:
    settings = make_settings(stt_providers=["local"], **settings_)
    chain = FallbackTranscriber(await build_providers(settings, None, None, language=language), attempt_timeout=120)
    try:
        out = await chain.transcribe(audio)
    finally:
        await chain.aclose()
    if out.transcript is not None:
        return "ok", out.transcript.text, out.transcript.model
    return "failed", out.failure_reason, chain.providers[0].model


def utterance(text: str, voice: str) -> rtc.AudioFrame:
    """A sentence as the audio chain cuts it: with 0.2 s of pre-roll and closing silence."""
    pad = np.zeros(int(0.2 * SR), np.int16)
    return frame(np.concatenate([pad, espeak(text, voice=voice), pad]))


async def test_portuguese_is_heard_by_the_multilingual_model_in_a_portuguese_room() -> None:
    status, text, model = await outcome_of("pt-BR", utterance("O senhor tem a receita do médico?", "pt-br"))
    assert (status, model) == ("ok", "base")
    assert text is not None and "senhor tem a receita" in text.lower()  # espeak's "médico" is a hard one


async def test_portuguese_to_the_english_only_model_is_refused_not_invented() -> None:
    # A Portuguese speaker in a room set to English: tiny.en answers "Thank you for watching!"; refused.
    # Two of the counter sentences; the bench measures the rate over the whole corpus (a few percent of
    # Portuguese sentences still pass for English there: the room's language is the real guard).
    for sentence in ("Bom dia, eu queria um remédio para dor de cabeça.", "Vocês têm dipirona em gotas?"):
        status, reason, model = await outcome_of("en", utterance(sentence, "pt-br"))
        assert model == "tiny.en"
        # Refused (or, when Whisper itself skips the segment, nothing claimed): never English words stored.
        assert status == "failed" or reason == "", (status, reason)


def test_the_language_check_runs_only_where_it_can_change_the_verdict() -> None:
    check = language_check(make_settings(stt_providers=["local"]), "tiny.en")
    assert check is not None and check.model.model.is_multilingual  # the bundled `base`
    portuguese = utterance("Qual é o genérico mais barato desse remédio?", "pt-br")
    english = utterance("This antibiotic needs a prescription.", "en-us")
    as_float = [to_float_16k(x) for x in (portuguese, english)]
    assert check.english_probability(as_float[0]) < 0.4 < check.english_probability(as_float[1])
    assert check.checks == 2 and check.cpu_seconds > 0
    sure = Signals(avg_logprob=-0.2, no_speech_prob=0.1, compression_ratio=1.0)
    unsure = Signals(avg_logprob=-0.7, no_speech_prob=0.1, compression_ratio=1.0)
    assert check.apply(as_float[0], "Some English words.", sure) == sure  # tiny.en sure of itself: not checked
    assert check.apply(as_float[0], "", unsure) == unsure  # nothing claimed
    assert check.apply(as_float[0], "Thank you for watching!", unsure) == unsure  # refused anyway
    assert check.checks == 2
    checked = check.apply(as_float[0], "Some English words.", unsure)
    assert check.checks == 3 and checked.english_probability is not None and checked.english_probability < 0.4
    # Portuguese is never "sure of an unexpected language": espeak-ng's is no language in particular to base.
    assert checked.unexpected_language_probability is not None and checked.unexpected_language_probability < 0.5
    found = judge(
        provider="local",
        text="Some English words.",
        requested_language="en",
        reported_language="en",
        signals=checked,
        rules=check.rules,
    )
    assert found is not None and found.kind == "language_unsupported"
    # Off by setting, and never for a multilingual model (it reports its language itself).
    assert language_check(make_settings(stt_local_language_check=False), "tiny.en") is None
    assert language_check(make_settings(), "base") is None


async def test_an_uncertain_english_answer_is_checked_and_kept(tmp_path: Path) -> None:
    # "Maybe." is English tiny.en is unsure of (log-probability about -0.85, decoded at temperature 0, so
    # the same every run): the job's provider runs the language check on it, finds it English, keeps it.
    corpus.espeak("Maybe.", "en-us", 185, tmp_path / "maybe.wav")
    audio = frame(corpus.Clip("", "", "", "", "", "", str(tmp_path / "maybe.wav")).audio())
    [provider] = await build_providers(make_settings(stt_providers=["local"]), None, None, language="en")
    try:
        check = provider.stt.language_check  # type: ignore[attr-defined]
        assert check is not None and check.checks == 0
        transcript = await provider.transcribe(audio, attempt_timeout=120)
    finally:
        await provider.aclose()
    assert normalize_text(transcript.text) == "maybe" and check.checks == 1
    assert transcript.signals is not None and transcript.signals.avg_logprob is not None
    assert transcript.signals.avg_logprob < -0.5  # unsure: checked
    assert transcript.signals.english_probability is not None and transcript.signals.english_probability > 0.4


async def test_silence_and_hiss_are_never_a_transcript() -> None:
    rng = np.random.default_rng(7)
    for audio in (np.zeros(3 * SR), 30 * rng.standard_normal(3 * SR)):
        for room in ("en", "pt-BR"):
            status, text, _ = await outcome_of(room, frame(audio))
            assert status == "failed" or text == "", (room, status, text)


def test_a_model_close_to_its_shutdown_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    old = make_settings(stt_openai_model="gpt-4o-mini-transcribe")
    with caplog.at_level(logging.WARNING, logger="escuta.stt"):
        [found] = warn_model_shutdowns(old, today=date(2026, 12, 4))
    assert (found.model, found.days_left, found.setting) == ("gpt-4o-mini-transcribe", 84, "ESCUTA_STT_OPENAI_MODEL")
    assert "shuts down on 2027-02-26 (84 days)" in caplog.records[0].getMessage()
    assert upcoming_shutdowns(old, today=date(2026, 11, 27)) == []  # 91 days ahead: not yet
    assert upcoming_shutdowns(old, today=date(2027, 3, 1))[0].days_left < 0  # and after the date, still
    # The defaults have no known shutdown date.
    assert upcoming_shutdowns(make_settings(), today=date(2026, 12, 4)) == []
