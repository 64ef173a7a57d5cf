"""Segmentation on real speech: open utterances are closed at end of stream, long turns are split."""

from __future__ import annotations

import numpy as np
import pytest

from agents.audio import AudioChainConfig, SpeechEnded, SpeechStarted
from agents.audio.events import AudioEvent
from agents.audio.segmenter import Segmenter
from agents.audio.vad import SileroVAD, load_silero

from .conftest import Corpus, chain, run_chain


def segment(audio: np.ndarray, seg: Segmenter) -> list[AudioEvent]:
    """Drive the segmenter alone with Silero probabilities, 20 ms at a time."""
    vad = SileroVAD(load_silero())
    events: list[AudioEvent] = []
    for i in range(0, len(audio), 320):
        x = audio[i : i + 320]
        seg.add_audio(x)
        for p in vad.process(x):
            events += seg.add_window(512, p)
    return events + seg.close()


def test_open_utterance_is_closed_at_end_of_stream(corpus: Corpus) -> None:
    clip = corpus["pt_clean"]
    last_start, _last_end = clip.segments[-1]
    cut = int((last_start + 0.8) * 16000)  # the stream stops in the middle of the last utterance
    events = segment(clip.audio[:cut], Segmenter(min_silence_s=0.3))
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(ended) == len(clip.segments)
    last = ended[-1]
    assert last.reason == "end_of_stream"
    assert last.start == pytest.approx(last_start, abs=0.1)
    assert last.end == pytest.approx(cut / 16000, abs=0.07)
    # its audio runs from the pre-roll to the end, and is the input itself
    first = round(last.audio_start * 16000)
    assert len(last.audio) == round(last.end * 16000) - first
    assert np.array_equal(last.audio, clip.audio[first : first + len(last.audio)])


def test_stream_ending_in_silence_emits_nothing_more(corpus: Corpus) -> None:
    clip = corpus["en_clean"]
    ended = [e for e in segment(clip.audio, Segmenter(min_silence_s=0.3)) if isinstance(e, SpeechEnded)]
    assert len(ended) == len(clip.segments)
    assert all(e.reason == "pause" for e in ended)


def test_max_length_splits_at_the_quietest_point(corpus: Corpus) -> None:
    clip = corpus["pt_clean"]
    lengths = [e - s for s, e in clip.segments]  # 2.5-3.2 s of unbroken speech each
    # A maximum shorter than every utterance but longer than what remains after one cut: exactly one cut
    # inside each utterance, searched over its second half (1-2 s after its start).
    max_s = 2.0
    assert min(lengths) > max_s + 0.3 and max(lengths) < 2 * max_s - 0.3
    events = run_chain(chain(denoise="off", min_silence_s=0.3, max_utterance_s=max_s), clip.audio)
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    splits = [e for e in ended if e.reason == "max_length"]
    assert all(e.duration <= max_s + 0.032 for e in ended), [(e.start, e.end, e.reason) for e in ended]
    conts = [x for x in events if isinstance(x, SpeechStarted) and x.continuation]
    # one cut per utterance, inside its words
    assert [[s <= x.start < e for x in conts].count(True) for s, e in clip.segments] == [1] * len(clip.segments)
    for s in splits:
        cont = next((x for x in conts if x.start == s.end), None)  # no gap, no overlap
        if cont is None:
            # The rest of a long utterance reached the limit again inside its closing pause: it ends at its
            # words' end, with no continuation.
            assert any(abs(s.end - e) <= 0.1 for _s, e in clip.segments), s
            continue
        nxt = next(e for e in ended if e.start == cont.start)
        assert nxt.audio_start == s.end  # the continuation's audio does not repeat the cut's pre-roll
        assert nxt.duration > 0.3  # the rest of the words, not an empty tail
        # The cut is the middle of the quietest 32 ms window of the second half, as far as it had been heard
        # when the limit was reached (the continuation's `detected_at`).
        k = round(s.end * 16000)
        at_cut = np.mean(clip.audio[k - 256 : k + 256].astype(float) ** 2)
        half = round(s.start * 16000) + round(max_s / 2 * 16000)
        searched = clip.audio[half : round(cont.detected_at * 16000)].astype(float)
        grid = [np.mean(searched[i : i + 512] ** 2) for i in range(0, len(searched) - 511, 512)]
        assert at_cut == pytest.approx(min(grid), rel=1e-3, abs=1e-3)
        # ... and quiet against the speech around it: a gap between words, not the middle of one.
        body = clip.audio[half : k + round(max_s / 4 * 16000)].astype(float)
        windows = [np.mean(body[i : i + 512] ** 2) for i in range(0, len(body) - 512, 256)]
        assert at_cut <= np.percentile(windows, 25)
    # nothing of the talk is lost across the splits: same speech time as without a maximum
    unsplit = run_chain(chain(denoise="off", min_silence_s=0.3), clip.audio)
    whole = sum(e.duration for e in unsplit if isinstance(e, SpeechEnded))
    assert sum(e.duration for e in ended) == pytest.approx(whole, abs=0.1)


def test_max_length_reached_in_a_pause_ends_without_an_empty_continuation(corpus: Corpus) -> None:
    clip = corpus["pt_clean"]
    (s1, e1), (s2, e2) = clip.segments[:2]
    assert 0.4 < s2 - e1 < 0.5 and e2 - s2 > 1.5  # the corpus' shortest pause, then a long utterance
    # A 1 s closing pause cannot end the first utterance in that 0.45 s pause; the maximum is set to run
    # out 0.25 s into it, after Silero has let go of the words (~0.1 s) and before the next ones.
    max_s = e1 + 0.25 - s1
    audio = clip.audio[: round((s2 + 1.0) * 16000)]  # the stream stops inside the second utterance
    events = run_chain(chain(denoise="off", min_silence_s=1.0, max_utterance_s=max_s), audio)
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert [e.reason for e in ended] == ["max_length", "end_of_stream"], ended
    first, second = ended
    assert first.start == pytest.approx(s1, abs=0.1) and first.end == pytest.approx(e1, abs=0.1)
    assert first.duration <= max_s
    # no continuation: the next utterance opens on its own words, with its own pre-roll
    assert not any(isinstance(e, SpeechStarted) and e.continuation for e in events)
    assert second.start == pytest.approx(s2, abs=0.1) and second.duration > 0.5


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        Segmenter(activation=0.3, deactivation=0.5)
    with pytest.raises(ValueError):
        Segmenter(min_silence_s=1.0, max_utterance_s=1.5)


def test_default_config_is_valid() -> None:
    cfg = AudioChainConfig()
    assert cfg.vad == "silero" and not cfg.denoise_enabled
    assert cfg.min_silence_s == 0.55 and cfg.trim_tail  # bench/audio_core.py: docs/audio-core.md
    assert AudioChainConfig(vad="webrtc").denoise_enabled  # "auto": on only where it was measured to help


def test_config_from_settings_and_profile_override(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import Settings

    monkeypatch.setenv("ESCUTA_AUDIO_VAD", "cascade")
    monkeypatch.setenv("ESCUTA_AUDIO_MIN_SILENCE_SECONDS", "0.4")
    cfg = Settings().audio.updated(max_utterance_s=12.0)
    assert (cfg.vad, cfg.min_silence_s, cfg.max_utterance_s, cfg.denoise) == ("cascade", 0.4, 12.0, "auto")
