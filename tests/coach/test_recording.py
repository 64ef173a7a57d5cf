"""WAV segments of a participant's audio: seed 002's layout, exact durations, atomic writes, flush log."""

from __future__ import annotations

import json
import re
import subprocess
import wave
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from agents.coach.recording import (
    MAX_GAIN,
    NORMALIZE_PEAK,
    SegmentInfo,
    SegmentWriter,
    normalize,
    write_wav_atomic,
)
from tests.coach.speech import espeak, read


def test_segments_are_valid_wavs_of_the_right_duration(tmp_path: Path) -> None:
    speech = read(espeak("Bom dia a todos, vamos começar a reunião."))  # about 2.8 s of real speech
    audio = np.concatenate([speech, speech])
    w = SegmentWriter(
        tmp_path, meeting_id="RM_42", room="sala/1", participant="bruno@x", track="TR_a", group_seconds=2.0
    )
    start = datetime(2026, 11, 22, 9, 0, 0, tzinfo=UTC)
    done = []
    for k in range(0, len(audio), 320):  # 20 ms frames, as the agent receives them
        done += w.push(audio[k : k + 320], start if k == 0 else None)
    done += w.close()
    total = len(audio) / 16000
    assert [round(s.duration_s, 4) for s in done] == [2.0, 2.0] + ([round(total - 4.0, 4)] if total > 4 else [])
    names = [p.name for p in sorted((tmp_path / "egress" / "audio" / "RM_42").iterdir())]
    assert len(names) == len(done)  # and no temporary file left behind
    pattern = re.compile(r"^\d{8}T\d{9}Z_sala-1_bruno-x_TR_a\.wav$")  # <timestamp>_<room>_<participant>_<track>
    assert all(pattern.match(n) for n in names), names
    assert names[0].startswith("20261122T090000000Z") and names[1].startswith("20261122T090002000Z")
    joined = []
    for seg in done:
        with wave.open(str(seg.path), "rb") as f:
            assert (f.getnchannels(), f.getsampwidth(), f.getframerate()) == (1, 2, 16000)
            assert f.getnframes() == seg.samples
            joined.append(np.frombuffer(f.readframes(f.getnframes()), dtype="<i2"))
        # An independent reader agrees on the duration.
        soxi = subprocess.run(["soxi", "-D", str(seg.path)], capture_output=True, text=True, check=True)
        assert float(soxi.stdout) == pytest.approx(seg.duration_s, abs=1e-4)
    assert np.array_equal(np.concatenate(joined), audio)  # nothing lost or repeated across segments
    log = [json.loads(line) for line in (tmp_path / "pipeline-logs" / "RM_42.log").read_text().splitlines()]
    assert [e["file"] for e in log] == [s.path.name for s in done]
    assert [e["samples"] for e in log] == [s.samples for s in done]


def test_normalisation_and_atomic_write(tmp_path: Path) -> None:
    quiet = (read(espeak("Fale mais alto por favor.")) // 20).astype(np.int16)
    out, gain = normalize(quiet)
    assert 1.0 < gain <= 10.0 and np.abs(out.astype(np.int32)).max() <= 32767
    target = tmp_path / "x.wav"

    class Boom(Exception):
        pass

    class Bad(np.ndarray):  # type: ignore[type-arg]
        def astype(self, *a: object, **k: object) -> bytes:  # type: ignore[override]
            raise Boom

    with pytest.raises(Boom):
        write_wav_atomic(target, quiet.view(Bad))
    assert list(tmp_path.iterdir()) == []  # a failed write leaves neither the file nor its temporary
    write_wav_atomic(target, out)
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]


def _write(root: Path, audio: npt.NDArray[np.int16], *, normalize: bool) -> list[SegmentInfo]:
    """One participant's audio through a writer of 2 s segments, in 20 ms frames as the agent receives them."""
    w = SegmentWriter(
        root, meeting_id="RM_n", room="sala", participant="bruno", track="TR_a", group_seconds=2.0, normalize=normalize
    )
    start = datetime(2026, 11, 22, 9, 0, 0, tzinfo=UTC)
    done: list[SegmentInfo] = []
    for k in range(0, len(audio), 320):
        done += w.push(audio[k : k + 320], start if k == 0 else None)
    return done + w.close()


def _samples(path: Path) -> npt.NDArray[np.int16]:
    with wave.open(str(path), "rb") as f:
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.int16)


def _dbfs(x: npt.NDArray[np.int16]) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) / 32768))


def test_segment_writer_normalises_each_segment_as_documented(tmp_path: Path) -> None:
    # A quiet participant, then a whispering one, then silence: one 2 s segment each (the last one 1 s).
    first = read(espeak("Bom dia a todos, vamos começar a reunião."))[:32000]
    second = read(espeak("Eu tenho uma pergunta sobre o cronograma."))[:32000]
    quiet = np.round(first * 0.2).astype(np.int16)  # peak about -16 dBFS
    whisper = np.round(second / 50).astype(np.int16)  # peak about -36 dBFS
    audio = np.concatenate([quiet, whisper, np.zeros(16000, dtype=np.int16)])

    done = _write(tmp_path / "on", audio, normalize=True)
    assert [s.duration_s for s in done] == [2.0, 2.0, 1.0]
    for seg in done:
        soxi = subprocess.run(["soxi", "-D", str(seg.path)], capture_output=True, text=True, check=True)
        assert float(soxi.stdout) == pytest.approx(seg.duration_s, abs=1e-4)
    louder, raised, silence = (_samples(s.path) for s in done)
    # Peak-normalised to -1 dBFS when that takes less than +20 dB: the loudest sample lands on 0.89 FS,
    # and the RMS rises by the same gain (the waveform is only scaled).
    gain = NORMALIZE_PEAK * 32767 / np.abs(quiet.astype(np.int32)).max()
    assert 1.0 < gain < MAX_GAIN
    assert np.abs(louder.astype(np.int32)).max() == pytest.approx(NORMALIZE_PEAK * 32767, abs=1)
    assert 20 * np.log10(np.abs(louder.astype(np.int32)).max() / 32768) == pytest.approx(-1.0, abs=0.05)
    assert _dbfs(louder) - _dbfs(quiet) == pytest.approx(20 * np.log10(gain), abs=0.01)
    assert np.array_equal(louder, np.round(quiet * gain).astype(np.int16))
    # A whisper would need more than +20 dB: the gain stops at the cap (no noise blown up to full scale).
    assert NORMALIZE_PEAK * 32767 / np.abs(whisper.astype(np.int32)).max() > MAX_GAIN
    assert np.array_equal(raised, whisper * 10) and _dbfs(raised) - _dbfs(whisper) == pytest.approx(20.0, abs=1e-6)
    assert not silence.any()  # silence is left as it is
    log = [json.loads(line) for line in (tmp_path / "on" / "pipeline-logs" / "RM_n.log").read_text().splitlines()]
    assert [e["normalizeGain"] for e in log] == [round(gain, 3), MAX_GAIN, 1.0]

    # normalize=False (the default): every sample as received.
    plain = _write(tmp_path / "off", audio, normalize=False)
    assert [s.duration_s for s in plain] == [2.0, 2.0, 1.0]
    assert np.array_equal(np.concatenate([_samples(s.path) for s in plain]), audio)
    log = [json.loads(line) for line in (tmp_path / "off" / "pipeline-logs" / "RM_n.log").read_text().splitlines()]
    assert [e["normalizeGain"] for e in log] == [1.0, 1.0, 1.0]
