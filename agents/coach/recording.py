"""Seed 002's audio egress, done the agent way: each participant's audio as WAV segments on disk.

Layout (seed 002): `<root>/egress/audio/<meetingId>/<timestamp>_<room>_<participant>_<track>.wav`, one
file per `group_seconds` of audio, and one JSON line per flush in `<root>/pipeline-logs/<meetingId>.log`.
Each file is written to a temporary name in the same directory, fsynced and renamed, so a crash leaves
either a complete WAV or none (a stray `.tmp` at worst), never a truncated one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
NORMALIZE_PEAK = 0.89  # -1 dBFS: leaves headroom for players that resample
MAX_GAIN = 10.0  # +20 dB: never amplify near-silence into loud noise
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_component(value: str) -> str:
    """A path component from an identity or room name: no separators, no dot-dot, bounded length."""
    cleaned = _UNSAFE.sub("-", value).strip(".-") or "x"
    return cleaned[:64]


def write_wav_atomic(path: Path, pcm: npt.NDArray[np.int16], sample_rate: int = SAMPLE_RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw:
            with wave.open(raw, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(sample_rate)
                w.writeframes(pcm.astype("<i2").tobytes())
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def normalize(pcm: npt.NDArray[np.int16]) -> tuple[npt.NDArray[np.int16], float]:
    """Peak normalisation to -1 dBFS (gain capped at +20 dB); returns the audio and the gain applied."""
    peak = int(np.abs(pcm.astype(np.int32)).max()) if len(pcm) else 0
    if peak == 0:
        return pcm, 1.0
    gain = min(MAX_GAIN, NORMALIZE_PEAK * 32767 / peak)
    out = np.clip(np.round(pcm.astype(np.float64) * gain), -32768, 32767).astype(np.int16)
    return out, gain


@dataclass(frozen=True)
class SegmentInfo:
    path: Path
    started_at: datetime
    samples: int

    @property
    def duration_s(self) -> float:
        return self.samples / SAMPLE_RATE


class SegmentWriter:
    """Buffers one participant track's 16 kHz mono audio and flushes every `group_seconds`."""

    def __init__(
        self,
        root: Path,
        *,
        meeting_id: str,
        room: str,
        participant: str,
        track: str,
        group_seconds: float = 2.0,
        normalize: bool = False,
    ) -> None:
        self.dir = root / "egress" / "audio" / safe_component(meeting_id)
        self.log_path = root / "pipeline-logs" / f"{safe_component(meeting_id)}.log"
        self._suffix = f"{safe_component(room)}_{safe_component(participant)}_{safe_component(track)}"
        self._group = max(1, round(group_seconds * SAMPLE_RATE))
        self._normalize = normalize
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._buffered = 0
        self._started_at: datetime | None = None
        self.segments: list[SegmentInfo] = []

    def push(self, pcm: npt.NDArray[np.int16], at: datetime | None = None) -> list[SegmentInfo]:
        """Add audio (`at`: wall time of its first sample); returns the segments it completed."""
        if self._started_at is None:
            self._started_at = at or datetime.now(UTC)
        self._chunks.append(pcm)
        self._buffered += len(pcm)
        done: list[SegmentInfo] = []
        while self._buffered >= self._group:
            done.append(self._flush(self._group))
        return done

    def close(self) -> list[SegmentInfo]:
        """Flush what is left (a shorter last segment)."""
        return [self._flush(self._buffered)] if self._buffered else []

    def _flush(self, n: int) -> SegmentInfo:
        data = np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        seg, rest = data[:n], data[n:]
        self._chunks, self._buffered = ([rest] if len(rest) else []), len(rest)
        started = self._started_at or datetime.now(UTC)
        gain = 1.0
        if self._normalize:
            seg, gain = normalize(seg)
        stamp = started.strftime("%Y%m%dT%H%M%S") + f"{started.microsecond // 1000:03d}Z"
        path = self.dir / f"{stamp}_{self._suffix}.wav"
        write_wav_atomic(path, seg)
        info = SegmentInfo(path, started, len(seg))
        self.segments.append(info)
        self._started_at = datetime.fromtimestamp(started.timestamp() + n / SAMPLE_RATE, tz=UTC)
        self._log(info, gain)
        return info

    def _log(self, info: SegmentInfo, gain: float) -> None:
        # The flush log is seed 002's per-meeting pipeline log (a data file next to the recordings), not
        # the application log: it names the file, which carries the participant as the layout requires.
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "ts": datetime.now(UTC).isoformat(),
            "file": info.path.name,
            "startedAt": info.started_at.isoformat(),
            "samples": info.samples,
            "durationS": round(info.duration_s, 3),
            "bytes": info.path.stat().st_size,
            "normalizeGain": round(gain, 3),
        }
        with self.log_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
