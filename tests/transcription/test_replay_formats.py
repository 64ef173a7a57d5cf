"""Replay reads compressed files (any format PyAV reads), not only WAV: FLAC, MP3, Ogg Vorbis and Ogg/Opus
at 48 kHz decode to the WAV's 16 kHz audio on the same clock, and still transcribe with the local Whisper
model; a compressed stereo file is two speakers. Encoded by sox (FLAC, MP3, Vorbis) and by PyAV (Opus,
which sox cannot write)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from scipy.signal import correlate

from agents.replay import decode
from tests.transcription.speech import SCRIPT_B, SCRIPT_EN, SR, Recording, place, recording, wer, write_wav
from tests.transcription.test_replay import run

# How late (s) each format may put the audio, and by how much its length may differ: an MP3 written by sox
# starts with LAME's 1105-sample encoder delay (69 ms at 16 kHz; no gapless tag tells the decoder to drop
# it) and ends padded to a whole 576-sample frame; the others decode on the WAV's clock.
TOLERANCE_S = {"flac": (0.0, 0.0), "mp3": (0.08, 0.12), "ogg": (0.005, 0.005), "opus.ogg": (0.005, 0.005)}


def encode_opus(src: Path, dst: Path, *, rate: int = 48_000, bitrate: int = 64_000) -> Path:
    """`src` as Ogg/Opus at `rate` (Opus has no 16 kHz-in-48 kHz shortcut: the decoder must resample)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="ogg") as out:
        ins = inp.streams.audio[0]
        layout = ins.codec_context.layout.name
        stream: Any = out.add_stream("libopus", rate=rate)
        stream.layout = layout
        stream.bit_rate = bitrate * ins.codec_context.channels
        resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
        for frame in [*inp.decode(ins), None]:
            for chunk in resampler.resample(frame):
                out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
    return dst


def encode(wav: Path, suffix: str) -> Path:
    dst = wav.with_suffix(f".{suffix}")
    if suffix == "opus.ogg":
        return encode_opus(wav, dst)
    subprocess.run(["sox", str(wav), *(["-C", "96"] if suffix == "mp3" else []), str(dst)], check=True)
    return dst


def shift_s(reference: np.ndarray[Any, Any], decoded: np.ndarray[Any, Any]) -> tuple[float, float]:
    """How late `decoded` is against `reference` (seconds), and their correlation once aligned."""
    n = min(len(reference), len(decoded))
    a, b = reference[:n].astype(np.float64), decoded[:n].astype(np.float64)
    lag = int(np.argmax(correlate(b, a, mode="full", method="fft"))) - (n - 1)
    aligned = (a[: n - lag], b[lag:]) if lag >= 0 else (a[-lag:], b[: n + lag])
    return lag / SR, float(np.corrcoef(*aligned)[0, 1])


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recording, Path]:
    rec = recording(SCRIPT_EN[:2], lead=0.6, gap=0.8)
    return rec, write_wav(tmp_path_factory.mktemp("formats") / "en.wav", [rec.audio])


@pytest.mark.parametrize("suffix", list(TOLERANCE_S))
def test_compressed_file_decodes_to_the_wav_audio_on_the_same_clock(
    english: tuple[Recording, Path], suffix: str
) -> None:
    rec, wav = english
    path = encode(wav, suffix)
    with av.open(str(path)) as c:
        rate = c.streams.audio[0].codec_context.sample_rate
    assert rate == (48_000 if suffix == "opus.ogg" else SR)
    [reference] = decode(wav, 1)
    [decoded] = decode(path, 1)
    assert reference.dtype == decoded.dtype == np.int16
    assert np.array_equal(reference, rec.audio)
    # 16 kHz out whatever the file's rate: same duration, the speech at the same place.
    late, longer = TOLERANCE_S[suffix]
    assert abs(len(decoded) - len(reference)) / SR <= longer
    lag, corr = shift_s(reference, decoded)
    assert 0 <= lag <= late
    assert corr > (0.999 if suffix == "flac" else 0.9)


@pytest.mark.parametrize("suffix", ["flac", "mp3", "opus.ogg"])
async def test_compressed_file_replays_through_local_whisper(english: tuple[Recording, Path], suffix: str) -> None:
    rec, wav = english
    transcripts, summary = await run(encode(wav, suffix))
    assert summary["utterances"] == summary["transcribed"] == len(rec.texts) and summary["failed"] == 0
    assert abs(summary["audio_seconds"] - len(rec.audio) / SR) <= TOLERANCE_S[suffix][1] + 0.001
    assert wer(rec.texts, [t["text"] for t in transcripts]) < 0.25
    for t, (a, b) in zip(sorted(transcripts, key=lambda t: t["start"]), rec.spans, strict=True):
        assert t["provider"] == "local" and t["speaker"] == "speaker-1"
        assert abs(t["start"] - a) < 0.35 and abs(t["end"] - b) < 0.5


async def test_compressed_stereo_file_is_two_speakers(tmp_path: Path) -> None:
    a = place(recording(SCRIPT_EN[1:2], lead=0.0), start=0.4, total=9.0)
    b = place(recording(SCRIPT_B, lead=0.0), start=1.5, total=9.0)  # talks over A's sentence
    assert a.spans[0][1] > b.spans[0][0]
    path = encode_opus(write_wav(tmp_path / "interview.wav", [a.audio, b.audio]), tmp_path / "interview.opus.ogg")
    transcripts, summary = await run(path, speakers=2)
    assert summary["speakers"] == 2 and summary["failed"] == 0
    for who, rec in (("speaker-1", a), ("speaker-2", b)):
        mine = sorted((t for t in transcripts if t["speaker"] == who), key=lambda t: t["start"])
        assert len(mine) == len(rec.spans)
        assert wer(rec.texts, [t["text"] for t in mine]) < 0.34  # the WAV's bar (test_replay)
        for t, (s, e) in zip(mine, rec.spans, strict=True):
            assert abs(t["start"] - s) < 0.35 and abs(t["end"] - e) < 0.5
