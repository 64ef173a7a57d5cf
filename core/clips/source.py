"""The clip-source capability: where clips of a broadcaster come from (Twitch today).

Ingestion only sees this base class, so another platform (or a stub in tests) is one more subclass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ClipRecord:
    """One clip as a source reports it; the columns of seed 004's clips CSV plus the links."""

    clip_id: str
    broadcaster_id: str
    created_at: datetime
    view_count: int
    title: str
    duration: float
    video_id: str | None = None
    url: str | None = None
    thumbnail_url: str | None = None
    game_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClipWindow:
    """What one query for a time window returned, and whether the source says that was everything.

    ``complete`` is False when the answer looks cut short (for Helix: its page sequence ended on a full
    page); ingestion then splits the window, since a source that caps its results does so silently.
    """

    clips: list[ClipRecord]
    complete: bool = True


class ClipSourceError(RuntimeError):
    """The source refused or failed in a way retrying now will not fix (bad credentials, 4xx)."""


class ClipSource(ABC):
    @abstractmethod
    def clips(self, broadcaster_id: str, started_at: datetime, ended_at: datetime) -> AsyncIterator[ClipRecord]:
        """Every clip of the broadcaster created in [started_at, ended_at], all pages."""

    async def window(self, broadcaster_id: str, started_at: datetime, ended_at: datetime) -> ClipWindow:
        """One query's clips for [started_at, ended_at]; a source that can tell it stopped early says so."""
        return ClipWindow([c async for c in self.clips(broadcaster_id, started_at, ended_at)])

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections."""
