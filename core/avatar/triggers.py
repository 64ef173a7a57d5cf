"""Media triggers ("gatilhos de mídia", seed 000): phrases in the conversation that show media.

Both sides are normalised the same way (accents stripped, case folded, punctuation as spaces), and a
phrase matches on whole words: "cafe" matches "Café!" but not "cafeteria". The `TriggerMatcher` adds
a per-trigger cooldown so one session does not show the same media over and over; `resolve` without
a matcher is what `POST /context/resolve` answers, so both always agree.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

MEDIA_TOPIC = "escuta.avatar.media"  # text-stream topic of `media` events (docs/avatar.md)
Source = Literal["visitor", "agent", "api"]

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    """'Promoção de Café!' -> 'promocao de cafe'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped).strip()


@dataclass(frozen=True)
class Trigger:
    id: str
    name: str
    phrases: tuple[str, ...]
    media_type: str
    media_url: str
    title: str
    display_seconds: int
    cooldown_seconds: float | None = None  # None: the matcher's default
    normalized: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.normalized:
            object.__setattr__(self, "normalized", tuple(p for p in (normalize(x) for x in self.phrases) if p))

    @classmethod
    def from_row(cls, row: Any) -> Trigger:
        cooldown = row["cooldown_seconds"]
        return cls(
            id=str(row["id"]),
            name=row["name"],
            phrases=tuple(row["phrases"]),
            media_type=row["media_type"],
            media_url=row["media_url"],
            title=row["title"],
            display_seconds=row["display_seconds"],
            cooldown_seconds=float(cooldown) if cooldown is not None else None,
        )

    def media(self) -> dict[str, Any]:
        return {
            "type": self.media_type,
            "url": self.media_url,
            "title": self.title,
            "displaySeconds": self.display_seconds,
        }


@dataclass(frozen=True)
class Match:
    trigger: Trigger
    phrase: str  # the configured phrase that matched
    position: int  # where in the normalised text, to order several matches

    def event(self, source: Source) -> dict[str, Any]:
        """The `media` event the frontend receives (and what `/context/resolve` lists)."""
        return {
            "type": "media",
            "triggerId": self.trigger.id,
            "trigger": self.trigger.name,
            "phrase": self.phrase,
            "source": source,
            "media": self.trigger.media(),
        }


def resolve(triggers: Iterable[Trigger], text: str) -> list[Match]:
    """Every trigger with a phrase in ``text``, in order of first occurrence; one match per trigger."""
    haystack = f" {normalize(text)} "
    found: list[Match] = []
    for trigger in triggers:
        best: Match | None = None
        for phrase, norm in zip(trigger.phrases, trigger.normalized, strict=False):
            pos = haystack.find(f" {norm} ")
            if pos >= 0 and (best is None or pos < best.position):
                best = Match(trigger, phrase, pos)
        if best is not None:
            found.append(best)
    return sorted(found, key=lambda m: m.position)


class TriggerMatcher:
    """Matches conversation text for one session; a trigger fires at most once per its cooldown."""

    def __init__(
        self,
        triggers: Sequence[Trigger],
        *,
        default_cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.triggers = list(triggers)
        self.default_cooldown = default_cooldown
        self._clock = clock
        self._last_fired: dict[str, float] = {}

    def feed(self, text: str) -> list[Match]:
        now = self._clock()
        fired: list[Match] = []
        for match in resolve(self.triggers, text):
            t = match.trigger
            cooldown = t.cooldown_seconds if t.cooldown_seconds is not None else self.default_cooldown
            last = self._last_fired.get(t.id)
            if last is not None and now - last < cooldown:
                continue
            self._last_fired[t.id] = now
            fired.append(match)
        return fired
