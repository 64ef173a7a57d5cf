"""Rooms and participants: who is where, what they publish, and who hears about it.

The signalling sessions, the Twirp API and the agent dispatcher all change room state through
`Rooms`; `RoomObserver`s (webhooks, agent dispatch) are told about lifecycle events in the order
LiveKit emits them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from livekit.protocol import agent_dispatch, models, rtc
from livekit.protocol import room as room_pb

from .ids import new_id, now_ms

if TYPE_CHECKING:
    from .media import PublishedTrack

log = logging.getLogger("livekit_sim.rooms")

# LiveKit's defaults when neither the token nor CreateRoom says otherwise.
DEFAULT_EMPTY_TIMEOUT = 300
DEFAULT_DEPARTURE_TIMEOUT = 20


class ParticipantLink(Protocol):
    """What a room needs from a connected participant's signalling session."""

    def send_signal(self, msg: rtc.SignalResponse) -> None: ...

    def send_data(self, payload: bytes, *, reliable: bool) -> None: ...

    def subscriptions_changed(self) -> None: ...

    async def disconnect(self, reason: models.DisconnectReason) -> None: ...


class RoomObserver:
    """Lifecycle hooks; the default implementation ignores everything."""

    def room_started(self, room: Room) -> None: ...

    def room_finished(self, room: Room) -> None: ...

    def participant_joined(self, room: Room, p: Participant) -> None: ...

    def participant_left(self, room: Room, p: Participant) -> None: ...

    def track_published(self, room: Room, p: Participant, track: models.TrackInfo) -> None: ...

    def track_unpublished(self, room: Room, p: Participant, track: models.TrackInfo) -> None: ...


@dataclass
class Participant:
    identity: str
    name: str = ""
    metadata: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    kind: models.ParticipantInfo.Kind = models.ParticipantInfo.STANDARD
    permission: models.ParticipantPermission = field(default_factory=models.ParticipantPermission)
    sid: str = field(default_factory=lambda: new_id("PA"))
    joined_at_ms: int = field(default_factory=now_ms)
    state: models.ParticipantInfo.State = models.ParticipantInfo.JOINED
    version: int = 1
    link: ParticipantLink | None = None
    published: dict[str, PublishedTrack] = field(default_factory=dict)
    # TrackInfos announced by add_track whose media has not arrived yet, oldest first.
    pending_tracks: list[models.TrackInfo] = field(default_factory=list)

    def info(self) -> models.ParticipantInfo:
        return models.ParticipantInfo(
            sid=self.sid,
            identity=self.identity,
            name=self.name,
            metadata=self.metadata,
            attributes=self.attributes,
            kind=self.kind,
            state=self.state,
            joined_at=self.joined_at_ms // 1000,
            joined_at_ms=self.joined_at_ms,
            version=self.version,
            permission=self.permission,
            is_publisher=bool(self.published),
            tracks=[t.info for t in self.published.values()],
        )

    def bump(self) -> None:
        self.version += 1

    @property
    def is_dependent(self) -> bool:
        # Like LiveKit, agents do not keep a room open on their own.
        return self.kind in (models.ParticipantInfo.AGENT, models.ParticipantInfo.EGRESS)


@dataclass
class Room:
    name: str
    sid: str = field(default_factory=lambda: new_id("RM"))
    created_at: float = field(default_factory=time.time)
    empty_timeout: int = 0
    departure_timeout: int = 0
    max_participants: int = 0
    metadata: str = ""
    agents: list[agent_dispatch.RoomAgentDispatch] = field(default_factory=list)
    participants: dict[str, Participant] = field(default_factory=dict)
    ever_joined: bool = False
    closed: bool = False
    close_timer: asyncio.TimerHandle | None = None

    def info(self) -> models.Room:
        return models.Room(
            sid=self.sid,
            name=self.name,
            empty_timeout=self.empty_timeout,
            departure_timeout=self.departure_timeout,
            max_participants=self.max_participants,
            creation_time=int(self.created_at),
            creation_time_ms=int(self.created_at * 1000),
            metadata=self.metadata,
            num_participants=len(self.participants),
            num_publishers=sum(1 for p in self.participants.values() if p.published),
        )

    def others(self, p: Participant) -> list[Participant]:
        return [o for o in self.participants.values() if o is not p]


class RoomFull(Exception):
    pass


class Rooms:
    def __init__(self, *, default_empty_timeout: int, default_departure_timeout: int) -> None:
        self.rooms: dict[str, Room] = {}
        self.observers: list[RoomObserver] = []
        self._default_empty = default_empty_timeout
        self._default_departure = default_departure_timeout

    # --- lifecycle ----------------------------------------------------------------------------------

    def get_or_create(self, name: str, config: room_pb.RoomConfiguration | None = None) -> tuple[Room, bool]:
        """The open room called `name`, creating it (with `config`) if there is none."""
        existing = self.rooms.get(name)
        if existing is not None and not existing.closed:
            return existing, False
        cfg = config or room_pb.RoomConfiguration()
        room = Room(
            name=name,
            empty_timeout=cfg.empty_timeout or self._default_empty,
            departure_timeout=cfg.departure_timeout or self._default_departure,
            max_participants=cfg.max_participants,
            metadata=cfg.metadata,
            agents=list(cfg.agents),
        )
        self.rooms[name] = room
        log.info("room %s created (%s)", name, room.sid)
        self._schedule_close(room, room.empty_timeout)
        for o in self.observers:
            o.room_started(room)
        return room, True

    async def close(self, room: Room, reason: models.DisconnectReason) -> None:
        if room.closed:
            return
        room.closed = True
        if room.close_timer:
            room.close_timer.cancel()
        # Remove first, so participant_left (for agents still inside) precedes room_finished as in LiveKit.
        for p in list(room.participants.values()):
            link = p.link
            self.remove(room, p)
            if link is not None:
                await link.disconnect(reason)
        if self.rooms.get(room.name) is room:
            del self.rooms[room.name]
        log.info("room %s closed", room.name)
        for o in self.observers:
            o.room_finished(room)

    def _schedule_close(self, room: Room, delay: int) -> None:
        if room.close_timer:
            room.close_timer.cancel()
        loop = asyncio.get_running_loop()
        room.close_timer = loop.call_later(delay, lambda: asyncio.ensure_future(self._close_if_empty(room)))

    async def _close_if_empty(self, room: Room) -> None:
        if all(p.is_dependent for p in room.participants.values()):
            await self.close(room, models.DisconnectReason.ROOM_CLOSED)

    # --- participants -------------------------------------------------------------------------------

    def add(self, room: Room, p: Participant) -> Participant | None:
        """Add `p`; returns the participant it replaces (same identity), which the caller disconnects."""
        previous = room.participants.get(p.identity)
        if room.max_participants and previous is None and len(room.participants) >= room.max_participants:
            raise RoomFull(room.name)
        room.participants[p.identity] = p
        room.ever_joined = True
        if room.close_timer and not p.is_dependent:
            room.close_timer.cancel()
            room.close_timer = None
        self.broadcast(room, [p], exclude=p)
        for o in self.observers:
            o.participant_joined(room, p)
        return previous

    def remove(self, room: Room, p: Participant) -> None:
        if room.participants.get(p.identity) is not p:
            # Replaced by a newer session with the same identity: only its media goes away.
            for track in p.published.values():
                track.close()
            p.published.clear()
            for other in room.participants.values():
                if other.link is not None:
                    other.link.subscriptions_changed()
            return
        del room.participants[p.identity]
        for track in list(p.published.values()):
            self.unpublish(room, p, track.info.sid, announce=False)
        p.state = models.ParticipantInfo.DISCONNECTED
        p.bump()
        self.broadcast(room, [p])
        for other in room.participants.values():
            if other.link is not None:
                other.link.subscriptions_changed()
        for o in self.observers:
            o.participant_left(room, p)
        if not room.closed and all(o.is_dependent for o in room.participants.values()):
            self._schedule_close(room, room.departure_timeout)

    def changed(self, room: Room, p: Participant) -> None:
        """Metadata, name, attributes, permissions or mute state changed: tell everyone, `p` included."""
        p.bump()
        self.broadcast(room, [p])

    # --- tracks -------------------------------------------------------------------------------------

    def publish(self, room: Room, p: Participant, track: PublishedTrack) -> None:
        p.published[track.info.sid] = track
        p.bump()
        # The update must reach subscribers before the subscriber offer carrying the track.
        self.broadcast(room, [p])
        for o in self.observers:
            o.track_published(room, p, track.info)
        for other in room.others(p):
            if other.link is not None:
                other.link.subscriptions_changed()

    def unpublish(self, room: Room, p: Participant, track_sid: str, *, announce: bool = True) -> None:
        track = p.published.pop(track_sid, None)
        if track is None:
            return
        track.close()
        for o in self.observers:
            o.track_unpublished(room, p, track.info)
        if announce:
            p.bump()
            self.broadcast(room, [p])
            for other in room.others(p):
                if other.link is not None:
                    other.link.subscriptions_changed()

    # --- fan-out ------------------------------------------------------------------------------------

    def broadcast(self, room: Room, changed: list[Participant], *, exclude: Participant | None = None) -> None:
        infos = [c.info() for c in changed if not c.permission.hidden]
        if not infos:
            return
        msg = rtc.SignalResponse(update=rtc.ParticipantUpdate(participants=infos))
        for other in room.participants.values():
            if other is not exclude and other.link is not None:
                other.link.send_signal(msg)

    def route_data(self, room: Room, sender: Participant | None, packet: models.DataPacket, *, reliable: bool) -> None:
        """Forward a DataPacket (user data, text stream, RPC...) honouring destination_identities."""
        if sender is not None:
            # Like livekit-server (participant.go): the channel is the source of truth for the sid, and
            # for the identity too, except that an agent may publish on behalf of a participant (that
            # is how transcripts carry the speaker's identity as sender).
            packet.participant_sid = sender.sid
            if not (sender.kind == models.ParticipantInfo.AGENT and packet.participant_identity):
                packet.participant_identity = sender.identity
        dest = set(packet.destination_identities)
        dest_sids = set(getattr(packet.user, "destination_sids", []))
        payload = packet.SerializeToString()
        for other in room.participants.values():
            if other is sender or other.link is None:
                continue
            if (dest or dest_sids) and other.identity not in dest and other.sid not in dest_sids:
                continue
            other.link.send_data(payload, reliable=reliable)

    def find_room(self, name: str) -> Room | None:
        room = self.rooms.get(name)
        return room if room is not None and not room.closed else None
