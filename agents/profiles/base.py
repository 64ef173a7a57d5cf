"""The profile framework: what a job does in its room.

A profile is a small object. It declares the audio stages it needs (an `AudioChainConfig`), prepares
itself for a session in `start()` (providers, credentials: failing there ends the job before it joins),
and hands out one `ParticipantHandler` per participant track, which receives that participant's
audio-chain events. It never touches a room: the room glue (`agents.room`) and the replay command
(`agents.replay`) feed it through the same `agents.listening.ParticipantFeed`, and results leave
through a `Publisher` (text streams in a room, JSON lines in a replay).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from uuid import UUID

import asyncpg

from agents.audio import AudioChainConfig, AudioEvent
from core.settings import Settings

if TYPE_CHECKING:
    from livekit import rtc
    from livekit.agents import JobContext

    from agents.audio import SileroModel


@dataclass(frozen=True)
class SessionInfo:
    meeting_id: str  # the room sid, as sessions.meeting_id
    room_name: str
    org_id: UUID | None
    solution: str | None
    clock_origin: datetime  # wall-clock time of session-clock zero (the room's creation)
    language: str | None = None  # what the room speaks: its solution's, else its organization's (None: not set)


@dataclass(frozen=True)
class Speaker:
    """One participant track. `clock_offset` is the session-clock time of its first audio frame."""

    identity: str
    track_sid: str | None
    clock_offset: float = 0.0
    name: str = ""
    metadata: str = ""  # the participant's token metadata (roles etc.), as LiveKit gives it
    attributes: Mapping[str, str] = field(default_factory=dict)


class Publisher(Protocol):
    """Where results go. Room: text streams; replay: JSON lines."""

    async def publish_transcript(self, speaker: Speaker, segment_id: str, text: str) -> None: ...

    async def send_text(
        self, topic: str, text: str, *, to: list[str] | None = None, attributes: dict[str, str] | None = None
    ) -> None:
        """Any other text stream from the agent (e.g. advice to the hosts); `to=None`: everyone."""
        ...

    def record(self, kind: str, data: dict[str, Any]) -> None:
        """A structured result for the operator (replay prints it; the room ignores it)."""
        ...


@dataclass
class ProfileContext:
    session: SessionInfo
    settings: Settings
    publisher: Publisher
    pool: asyncpg.Pool | None = None  # None: nothing is stored
    resolve_credential: Callable[[str], Awaitable[str]] | None = None  # None: no credential available


class ProfileRpcError(Exception):
    """Raised by a profile's RPC or message handler for a bad request: the caller gets an RPC error
    with this message (it must carry no personal data) and the job goes on."""


# (caller, payload) -> response. `caller` is built from the room's view of that participant (token
# metadata and attributes), so a profile checks who may call with the same rules as for speakers.
RequestHandler = Callable[[Speaker, str], Awaitable[str]]


class ParticipantHandler(ABC):
    @abstractmethod
    def on_event(self, event: AudioEvent) -> None:
        """Called inline from the frame loop: must not block (queue slow work)."""

    def on_frame(self, frame: rtc.AudioFrame) -> None:
        """Optional: each raw frame as received, before the audio chain (e.g. a recorder). Called inline
        from the frame loop: must not block. The default does nothing."""
        return None

    @abstractmethod
    async def close(self) -> None:
        """The participant's audio ended: finish every queued piece of work."""


class Profile(ABC):
    name: ClassVar[str]
    audio_overrides: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    """What this profile needs different from the `ESCUTA_AUDIO_*` settings (e.g. no level snapshots)."""
    rejects_background: ClassVar[bool] = False
    """Run the background-speech stage when `ESCUTA_AUDIO_BACKGROUND=auto` (the default): profiles whose
    listeners sit where a TV or radio plays (a counter, a participant's room) set it."""
    audio: AudioChainConfig = AudioChainConfig()
    """The audio stages every listener of this session runs; set by :meth:`configure_audio`."""

    def configure_audio(self, settings: Settings) -> AudioChainConfig:
        """The session's audio chain: the `ESCUTA_AUDIO_*` settings, then this profile's overrides, with
        `background="auto"` resolved by `rejects_background`.

        The room glue and replay call it before `start`, so both run the configured chain.
        """
        audio = settings.audio.updated(**self.audio_overrides)
        if audio.background == "auto":
            audio = audio.updated(background="on" if self.rejects_background else "off")
        self.audio = audio
        return self.audio

    @abstractmethod
    async def start(self, ctx: ProfileContext) -> None:
        """Prepare for one session. Raises `MissingCredentialError` when the organization lacks a key."""

    @abstractmethod
    def participant(self, speaker: Speaker) -> ParticipantHandler: ...

    def summary(self) -> dict[str, Any]:
        return {}

    def rpc_methods(self) -> Mapping[str, RequestHandler]:
        """RPC methods the room glue registers on the agent's participant (method name -> handler)."""
        return {}

    def text_topics(self) -> Mapping[str, RequestHandler]:
        """Text-stream topics the room glue reads (topic -> handler; the response is ignored)."""
        return {}

    async def run_in_room(
        self, job: JobContext, session: SessionInfo, *, vad_model: SileroModel | None
    ) -> Callable[[], Awaitable[None]]:
        """Join the job's room and do this profile's work there; returns what ends it when the job ends.

        The default listens to every participant (`agents.room.listen`); a conversational profile (the
        avatar) overrides it.
        """
        from agents.room import listen

        return await listen(job, self, session, vad_model=vad_model)

    async def aclose(self) -> None:
        return None


PROFILES: dict[str, type[Profile]] = {}


def register(cls: type[Profile]) -> type[Profile]:
    PROFILES[cls.name] = cls
    return cls


def get_profile(name: str) -> type[Profile] | None:
    from agents.profiles import builtin  # noqa: F401  # registers the built-in profiles

    return PROFILES.get(name)
