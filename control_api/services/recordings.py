"""A meeting's WAV recordings on disk (agents/coach/recording.py's layout), read by the control API.

The worker writes `<ESCUTA_RECORDINGS_DIR>/egress/audio/<meetingId>/<stamp>_<room>_<participant>_<track>.wav`;
the API reads the same directory, so it only sees files when both share the disk (`escuta run`, or one
volume mounted in both containers). A file is served only if it is one of the names listed for that
meeting: a regular file (not a symlink) directly in the meeting's directory, so `..`, absolute paths,
nested names and links pointing elsewhere never reach the disk outside it. The functions here touch the
disk: call them in a thread.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# Mirrors agents/coach/recording.py's `safe_component` (control_api may not import agents/);
# tests/console/test_console_recordings.py checks both give the same directory.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{9}Z)_(?P<rest>[A-Za-z0-9._-]+)\.wav$")
_TRACK = re.compile(r"^(?P<participant>.+)_(?:TR_[A-Za-z0-9.-]+|track)$")
WAV_HEADER_BYTES = 44


def safe_component(value: str) -> str:
    cleaned = _UNSAFE.sub("-", value).strip(".-") or "x"
    return cleaned[:64]


def meeting_dir(root: Path, meeting_id: str) -> Path:
    return root / "egress" / "audio" / safe_component(meeting_id)


@dataclass(frozen=True)
class RecordingFile:
    name: str
    size: int
    participant: str | None
    started_at: datetime | None
    duration_s: float


def _describe(name: str, size: int, room: str | None) -> RecordingFile | None:
    m = _NAME.match(name)
    if m is None:
        return None
    started = datetime.strptime(m["stamp"][:-4], "%Y%m%dT%H%M%S").replace(
        microsecond=int(m["stamp"][-4:-1]) * 1000, tzinfo=UTC
    )
    rest, participant = m["rest"], None
    prefix = f"{safe_component(room)}_" if room else None
    if prefix and rest.startswith(prefix):
        t = _TRACK.match(rest[len(prefix) :])
        participant = t["participant"] if t else rest[len(prefix) :]
    # 16 kHz mono 16-bit (the writer's format): the duration follows from the size.
    duration = max(0, size - WAV_HEADER_BYTES) / 32_000
    return RecordingFile(name, size, participant, started, round(duration, 3))


def list_recordings(root: Path, meeting_id: str, room: str | None) -> list[RecordingFile]:
    """The meeting's complete WAV files (no temporaries, no symlinks, no directories), oldest first."""
    directory = meeting_dir(root, meeting_id)
    try:
        if directory.is_symlink() or not directory.is_dir():
            return []
        entries = list(os.scandir(directory))
    except OSError:
        return []
    out: list[RecordingFile] = []
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        rec = _describe(entry.name, st.st_size, room)
        if rec is not None:
            out.append(rec)
    out.sort(key=lambda r: (r.started_at or datetime.min.replace(tzinfo=UTC), r.name))
    return out


def recording_path(root: Path, meeting_id: str, name: str) -> Path | None:
    """The file to serve for `name`, or None unless it is one of the names `list_recordings` gives."""
    if _NAME.match(name) is None:  # no separators, no `..`, no absolute path: only the writer's names
        return None
    directory = meeting_dir(root, meeting_id)
    path = directory / name
    try:
        if directory.is_symlink() or not directory.is_dir():
            return None
        st = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return path
