"""Fixtures for the audio core tests: a small slice of the generated corpus (real espeak-ng speech)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from agents.audio import AudioChain, AudioChainConfig, AudioEvent, frames_from_array, read_wav
from agents.audio.frames import Int16Array
from tests.audio_corpus.generate import generate


@dataclass
class Sample:
    audio: Int16Array
    segments: list[tuple[float, float]]


class Corpus:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.labels = json.loads((root / "labels.json").read_text())["files"]

    def __getitem__(self, name: str) -> Sample:
        audio, sr = read_wav(self.root / f"{name}.wav")
        assert sr == 16000
        return Sample(audio, [(s, e) for s, e in self.labels[name]["segments"]])


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    if shutil.which("espeak-ng") is None:
        pytest.fail("the audio tests need espeak-ng: apt-get install espeak-ng (scripts/setup test does it)")
    root = tmp_path_factory.mktemp("corpus")
    generate(root, noises=("hum", "impulse"), snrs=(10, 0))
    return Corpus(root)


def run_chain(chain: AudioChain, audio: Int16Array, sample_rate: int = 16000, frame_ms: int = 20) -> list[AudioEvent]:
    events: list[AudioEvent] = []
    for f in frames_from_array(audio, sample_rate, frame_ms):
        events += chain.push(f)
    return events + chain.close()


def chain(**kw: object) -> AudioChain:
    return AudioChain(AudioChainConfig(**kw))  # type: ignore[arg-type]


@pytest.fixture
def rng() -> Iterator[np.random.Generator]:
    yield np.random.default_rng(7)
