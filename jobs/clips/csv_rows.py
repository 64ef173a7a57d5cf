"""Parsing and validating seed 004's CSV files, row by row, with the line number of every problem.

``streamers.csv``: twitch_user_id, display_name, avatar_url, monitor_interval_seconds, monitor_min_clips,
api_mode, trial_expires_at, client_twitch_client_id, client_twitch_client_secret.
``clipes.csv``: clip_id, streamer_twitch_user_id, created_at, viewer_count, video_id, title, duration.

An empty optional column keeps what is stored for a streamer already there (issue 14.6: a re-import
without the secrets no longer wipes them); for a new one, empty monitoring values fall back to the
default preset, and an empty api_mode means ``client`` when the row carries its own Twitch credentials,
else ``shared``. ``api_mode=client`` with empty credential columns keeps the stored credentials; a new
streamer without any is refused at import. Times are ISO-8601; without an offset they are
UTC. Line numbers are the file's physical lines (the header is line 1), so quoted multi-line titles
do not shift them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from core.clips.presets import MonitoringError, resolve
from core.clips.source import ClipRecord
from db.clips import StreamerInput

STREAMER_COLUMNS = (
    "twitch_user_id",
    "display_name",
    "avatar_url",
    "monitor_interval_seconds",
    "monitor_min_clips",
    "api_mode",
    "trial_expires_at",
    "client_twitch_client_id",
    "client_twitch_client_secret",
)
CLIP_COLUMNS = ("clip_id", "streamer_twitch_user_id", "created_at", "viewer_count", "video_id", "title", "duration")

_TWITCH_ID = re.compile(r"^[0-9]{1,20}$")
_CLIP_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowError:
    file: str
    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class RowInvalid(ValueError):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class StreamerRow:
    line: int
    streamer: StreamerInput


@dataclass(frozen=True, slots=True)
class ClipRow:
    line: int
    twitch_user_id: str
    clip: ClipRecord


def parse_time(field: str, value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RowInvalid(field, f"not an ISO-8601 date/time: {value[:40]!r}") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _int(field: str, value: str, *, minimum: int = 0) -> int:
    try:
        n = int(value)
    except ValueError:
        raise RowInvalid(field, f"not a whole number: {value[:40]!r}") from None
    if n < minimum:
        raise RowInvalid(field, f"must be at least {minimum}")
    return n


def _rows(path: Path, columns: tuple[str, ...], errors: list[RowError]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) for each data row; header problems are reported on line 1 and stop the file."""
    name = path.name
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in columns if c not in header]
        unknown = [c for c in header if c not in columns]
        if missing or unknown:
            parts = []
            if missing:
                parts.append("missing columns " + ", ".join(missing))
            if unknown:
                parts.append("unknown columns " + ", ".join(unknown))
            errors.append(RowError(name, 1, None, "; ".join(parts)))
            return
        line = reader.line_num
        for raw in reader:
            start, line = line + 1, reader.line_num
            if None in raw:
                errors.append(RowError(name, start, None, "more values than columns"))
                continue
            yield start, {k: (v or "").strip() for k, v in raw.items()}


def _collect(
    path: Path,
    columns: tuple[str, ...],
    build: Callable[[dict[str, str]], T],
    key: Callable[[T], str],
    errors: list[RowError],
) -> list[tuple[int, T]]:
    out: list[tuple[int, T]] = []
    seen: dict[str, int] = {}
    line = 1
    try:
        for line, row in _rows(path, columns, errors):
            try:
                item = build(row)
            except RowInvalid as exc:
                errors.append(RowError(path.name, line, exc.field, str(exc)))
                continue
            k = key(item)
            if k in seen:
                errors.append(RowError(path.name, line, columns[0], f"duplicate of line {seen[k]}"))
                continue
            seen[k] = line
            out.append((line, item))
    except (UnicodeDecodeError, csv.Error) as exc:
        # The rest of the file cannot be read reliably: report where it broke, keep nothing after it.
        errors.append(RowError(path.name, line + 1, None, f"unreadable CSV ({type(exc).__name__})"))
    return out


def _streamer(row: dict[str, str]) -> StreamerInput:
    uid = row["twitch_user_id"]
    if not _TWITCH_ID.match(uid):
        raise RowInvalid("twitch_user_id", "must be Twitch's numeric user id")
    if not row["display_name"]:
        raise RowInvalid("display_name", "is required")
    avatar = row["avatar_url"] or None
    if avatar and not avatar.startswith(("https://", "http://")):
        raise RowInvalid("avatar_url", "must be an http(s) URL")
    interval = (
        _int("monitor_interval_seconds", row["monitor_interval_seconds"]) if row["monitor_interval_seconds"] else None
    )
    min_clips = _int("monitor_min_clips", row["monitor_min_clips"]) if row["monitor_min_clips"] else None
    try:
        resolved = resolve(interval_seconds=interval, min_clips=min_clips)
    except MonitoringError as exc:
        raise RowInvalid(exc.field, str(exc).split(": ", 1)[1]) from None
    client_id, secret = row["client_twitch_client_id"] or None, row["client_twitch_client_secret"] or None
    if (client_id is None) != (secret is None):
        raise RowInvalid("client_twitch_client_secret", "client id and client secret go together")
    mode = row["api_mode"] or ("client" if client_id else "shared")
    if mode not in ("shared", "client"):
        raise RowInvalid("api_mode", "must be shared or client")
    trial = parse_time("trial_expires_at", row["trial_expires_at"]) if row["trial_expires_at"] else None
    keep = set()
    if avatar is None:
        keep.add("avatar_url")
    if interval is None and min_clips is None:
        keep.add("monitoring")
    if not row["api_mode"]:
        keep.add("api_mode")
    if trial is None:
        keep.add("trial_expires_at")
    if client_id is None:
        keep.add("twitch_credentials")
    return StreamerInput(
        twitch_user_id=uid,
        display_name=row["display_name"],
        avatar_url=avatar,
        monitor_preset=resolved.preset,
        monitor_interval_seconds=resolved.monitoring.interval_seconds,
        monitor_min_clips=resolved.monitoring.min_clips,
        api_mode=mode,
        trial_expires_at=trial,
        twitch_client_id=client_id,
        twitch_client_secret=secret,
        keep=frozenset(keep),
    )


def _clip(row: dict[str, str]) -> ClipRow:
    if not _CLIP_ID.match(row["clip_id"]):
        raise RowInvalid("clip_id", "must be a Twitch clip id (letters, digits, - and _)")
    uid = row["streamer_twitch_user_id"]
    if not _TWITCH_ID.match(uid):
        raise RowInvalid("streamer_twitch_user_id", "must be Twitch's numeric user id")
    if not row["created_at"]:
        raise RowInvalid("created_at", "is required")
    created = parse_time("created_at", row["created_at"])
    views = _int("viewer_count", row["viewer_count"]) if row["viewer_count"] else 0
    try:
        duration = float(row["duration"]) if row["duration"] else 0.0
    except ValueError:
        raise RowInvalid("duration", f"not a number: {row['duration'][:40]!r}") from None
    if not duration >= 0 or duration > 86_400:  # `not >=` also rejects NaN
        raise RowInvalid("duration", "must be between 0 and 86400 seconds")
    clip = ClipRecord(row["clip_id"], uid, created, views, row["title"], duration, video_id=row["video_id"] or None)
    return ClipRow(0, uid, clip)


def parse_streamers(path: Path, errors: list[RowError]) -> list[StreamerRow]:
    rows = _collect(path, STREAMER_COLUMNS, _streamer, lambda s: s.twitch_user_id, errors)
    return [StreamerRow(line, s) for line, s in rows]


def parse_clips(path: Path, errors: list[RowError]) -> list[ClipRow]:
    rows = _collect(path, CLIP_COLUMNS, _clip, lambda c: c.clip.clip_id, errors)
    return [ClipRow(line, c.twitch_user_id, c.clip) for line, c in rows]
