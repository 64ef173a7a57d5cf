"""The chain end to end: input formats, the entrance's errors, hostile frames, typed events."""

from __future__ import annotations

import numpy as np
import pytest
from livekit import rtc
from scipy.signal import resample_poly

from agents.audio import (
    AudioChain,
    AudioChainConfig,
    AudioFormatError,
    LevelSnapshot,
    SpeechEnded,
    SpeechStarted,
    frames_from_array,
    stream_events,
)
from agents.audio.events import AudioEvent

from .conftest import Corpus, chain, run_chain

DETECTORS = ["silero", "webrtc", "cascade"]
WINDOW_S = {"silero": 0.032, "webrtc": 0.02, "cascade": 0.032}  # one detector decision frame


def speech_events(events: list[AudioEvent]) -> list[SpeechStarted | SpeechEnded]:
    return [e for e in events if isinstance(e, SpeechStarted | SpeechEnded)]


@pytest.mark.parametrize("rate", [48000, 24000, 8000])
def test_other_rates_and_stereo_give_the_same_events(corpus: Corpus, rate: int) -> None:
    x = corpus["en_clean"].audio
    ref = speech_events(run_chain(chain(), x))
    up = np.rint(resample_poly(x.astype(np.float64), rate, 16000)).astype(np.int16)
    stereo = np.stack([up, up], axis=1) if rate == 48000 else up
    got = speech_events(run_chain(chain(), stereo, sample_rate=rate))
    assert [type(e) for e in got] == [type(e) for e in ref]
    # Within one Silero window; 8 kHz has no band above 4 kHz, so it gets two.
    tol = (0.032 if rate != 8000 else 0.064) + 1e-6
    for a, b in zip(got, ref, strict=True):
        assert abs(a.start - b.start) <= tol
        if isinstance(a, SpeechEnded) and isinstance(b, SpeechEnded):
            assert abs(a.end - b.end) <= tol
            assert abs(len(a.audio) - len(b.audio)) <= tol * 16000


@pytest.mark.parametrize("clip", ["pt_clean", "en_clean"])
@pytest.mark.parametrize("vad", DETECTORS)
def test_stereo_48k_is_identical_within_a_frame_for_every_detector(corpus: Corpus, vad: str, clip: str) -> None:
    x = corpus[clip].audio
    up = np.rint(resample_poly(x.astype(np.float64), 3, 1)).astype(np.int16)
    ref = speech_events(run_chain(chain(vad=vad, denoise="off", min_silence_s=0.3), x))
    got = speech_events(
        run_chain(chain(vad=vad, denoise="off", min_silence_s=0.3), np.stack([up, up], axis=1), 48000, 10)
    )
    assert [type(e) for e in got] == [type(e) for e in ref] and ref
    for a, b in zip(got, ref, strict=True):
        assert abs(a.start - b.start) <= WINDOW_S[vad] + 1e-6, (a, b)
        if isinstance(a, SpeechEnded) and isinstance(b, SpeechEnded):
            assert abs(a.end - b.end) <= WINDOW_S[vad] + 1e-6, (a, b)


@pytest.mark.parametrize(
    ("rate", "channels", "samples", "match"),
    [
        (44100, 1, 441, "sample rate 44100"),
        (32000, 1, 320, "sample rate 32000"),
        (48000, 1, 1024, "1024 samples"),
        (16000, 1, 100, "not a whole number of 10 ms"),
        (16000, 1, 32000, "up to 1000 ms"),
        (16000, 6, 160, "channel count 6"),
    ],
)
def test_wrong_format_is_a_clear_error(rate: int, channels: int, samples: int, match: str) -> None:
    frame = rtc.AudioFrame(bytes(samples * channels * 2), rate, channels, samples)
    with pytest.raises(AudioFormatError, match=match):
        AudioChain().push(frame)


def test_empty_frame_is_ignored() -> None:
    c = AudioChain()
    assert c.push(rtc.AudioFrame(b"", 16000, 1, 0)) == []
    assert c.close() == []


def hostile_frames(rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    n = 16000 * 6
    nan_bytes = np.full(n // 2, np.nan, dtype=np.float32).view(np.int16)  # NaN floats read as int16
    return {
        "silent": [np.zeros(n, dtype=np.int16)],
        "clipped-dc": [np.full(n, 32767, dtype=np.int16)],
        "clipped-square": [np.tile(np.array([32767, 32767, -32768, -32768], dtype=np.int16), n // 4)],
        "garbage": [rng.integers(-32768, 32767, n, dtype=np.int16)],
        "nan-bytes": [nan_bytes],
    }


@pytest.mark.parametrize("vad", DETECTORS)
def test_hostile_frames_do_not_crash_or_make_speech(vad: str, rng: np.random.Generator) -> None:
    for name, (audio,) in hostile_frames(rng).items():
        c = chain(vad=vad)
        events = run_chain(c, audio)
        assert not speech_events(events), (vad, name)
        snaps = [e for e in events if isinstance(e, LevelSnapshot)]
        assert len(snaps) == 7  # one per second plus the final one from close()
        if name.startswith("clipped"):
            assert snaps[0].clipping_ratio > 0.4 and snaps[0].peak_dbfs == pytest.approx(0.0, abs=0.01)


def test_nan_and_inf_float_input_becomes_silence() -> None:
    c = AudioChain()
    bad = np.full(320, np.nan, dtype=np.float32)
    bad[::3] = np.inf
    events: list[AudioEvent] = []
    for _ in range(200):
        events += c.push_float(bad, 16000)
    events += c.close()
    assert not speech_events(events)
    assert c.entrance.invalid_samples == 200 * 320
    assert all(e.rms_dbfs == -100.0 for e in events if isinstance(e, LevelSnapshot))


def test_events_are_typed_and_ordered(corpus: Corpus) -> None:
    clip = corpus["en_clean"]
    cfg = AudioChainConfig(snapshot_interval_s=0.5, min_silence_s=0.3)
    events = run_chain(AudioChain(cfg, clock_offset=100.0), clip.audio)
    kinds = [type(e) for e in speech_events(events)]
    assert kinds == [SpeechStarted, SpeechEnded] * len(clip.segments)
    snaps = [e for e in events if isinstance(e, LevelSnapshot)]
    assert [round(s.t - 100.0, 2) for s in snaps[:3]] == [0.5, 1.0, 1.5]
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    for ev, (start, _end) in zip(ended, clip.segments, strict=True):
        assert ev.start == pytest.approx(100.0 + start, abs=0.1)  # the stream's clock, offset applied
        assert ev.detected_at >= ev.end
        f = ev.frame()
        assert f.sample_rate == 16000 and f.samples_per_channel == len(ev.audio)
        assert ev.audio_start == pytest.approx(ev.start - 0.3, abs=1e-6)


async def test_async_helper_and_shared_model(corpus: Corpus) -> None:
    from agents.audio import load_silero

    x = corpus["en_clean"].audio
    model = load_silero()
    cfg = AudioChainConfig(min_silence_s=0.3)
    a, b = AudioChain(cfg, vad_model=model), AudioChain(cfg, vad_model=model)

    async def frames() -> object:
        for f in frames_from_array(x, 16000):
            b.push(f)  # interleave a second stream on the same model: states must not mix
            yield f

    got = [e async for e in stream_events(a, frames())]  # type: ignore[arg-type]
    other = b.close()
    assert len(speech_events(got)) == 2 * len(corpus["en_clean"].segments)
    assert [type(e) for e in speech_events(other)] in ([], [SpeechEnded])
    with pytest.raises(RuntimeError):
        a.push(next(frames_from_array(x, 16000)))
