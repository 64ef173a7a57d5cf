"""WAV segments of a participant's audio: seed 002's layout, exact durations, atomic writes, flush log."""

from __future__ import annotations

import json
import re
import subprocess
import wave
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from agents.egress.audio_segments import SegmentWriter, normalize, write_wav_atomic
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
