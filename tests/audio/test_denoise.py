"""Noise reduction on a hum-mixed espeak-ng file: the floor drops, the speech stays, latency is bounded."""

from __future__ import annotations

import numpy as np

from agents.audio import AudioChain, AudioChainConfig, SpeechEnded
from agents.audio.denoise import StreamingDenoiser
from agents.audio.vad import SileroVAD, load_silero

from .conftest import Corpus, run_chain


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2)))


def masks(n: int, segments: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    speech = np.zeros(n, dtype=bool)
    for s, e in segments:
        speech[int(s * 16000) : int(e * 16000)] = True
    noise = ~speech
    noise[:16000] = False  # the lead-in taught the profile; judge the floor elsewhere
    return speech, noise


def denoise(x: np.ndarray, noise_clip: np.ndarray, chunk: int = 320) -> tuple[np.ndarray, StreamingDenoiser]:
    d = StreamingDenoiser()
    d.learn_noise(noise_clip)
    out = [d.process(x[i : i + chunk]) for i in range(0, len(x), chunk)]
    return np.concatenate([*out, d.flush()]), d


def test_hum_floor_drops_and_speech_stays(corpus: Corpus) -> None:
    noisy, clean = corpus["pt_hum_10"], corpus["pt_clean"]
    x = noisy.audio
    y, _ = denoise(x, x[: int(0.9 * 16000)])
    assert len(y) == len(x)  # stream clock preserved: output sample k is input sample k
    speech, noise = masks(len(x), noisy.segments)

    floor_drop = db(x[noise]) - db(y[noise])
    assert floor_drop > 20.0, floor_drop  # measured ~28 dB on 60 Hz hum + fan hiss
    # The speech is still there: energy within 6 dB of the clean speech, waveform aligned and correlated.
    assert abs(db(y[speech]) - db(clean.audio[speech])) < 6.0
    assert np.corrcoef(y[speech], clean.audio[speech])[0, 1] > 0.9
    # And a VAD still finds every utterance in the denoised audio.
    events = run_chain(AudioChain(AudioChainConfig(denoise="off"), detector=SileroVAD(load_silero())), y)
    found = [e for e in events if isinstance(e, SpeechEnded)]
    assert sum(any(e.start < end and e.end > start for e in found) for start, end in noisy.segments) == len(
        noisy.segments
    )


def test_latency_is_bounded_by_block_plus_lookahead(corpus: Corpus) -> None:
    x = corpus["pt_hum_10"].audio[: 3 * 16000]
    d = StreamingDenoiser()
    d.learn_noise(x[:8000])
    assert d.latency_samples == int(0.16 * 16000)
    pushed = emitted = 0
    for i in range(0, len(x), 320):
        emitted += len(d.process(x[i : i + 320]))
        pushed += 320
        assert 0 <= pushed - emitted <= d.latency_samples


def test_chain_learns_profile_from_vad_non_speech(corpus: Corpus) -> None:
    clip = corpus["en_hum_0"]
    chain = AudioChain(AudioChainConfig(vad="webrtc", denoise="on"))
    events = run_chain(chain, clip.audio)
    assert chain.denoiser is not None and chain.denoiser.profile_updates >= 3
    found = [e for e in events if isinstance(e, SpeechEnded)]
    # At 0 dB SNR, webrtcvad after noise reduction still finds the utterances (the gate alone finds none).
    assert len(found) >= len(clip.segments) - 1
    hits = sum(any(e.start < end and e.end > start for e in found) for start, end in clip.segments)
    assert hits == len(clip.segments)
