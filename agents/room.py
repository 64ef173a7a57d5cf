"""The room glue: the only code that needs a live LiveKit room.

It turns room events into `ParticipantFeed`s: one per remote participant's microphone track, each
with its own audio-chain state. Late joiners arrive as ordinary `track_subscribed` events; a leaver's
or unpublished track is flushed and closed; mute closes the open utterance and unmute re-anchors the
clock; a republished track is a new track. Other agents (kind AGENT, including avatars) are ignored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

from livekit import rtc
from livekit.agents import AutoSubscribe, JobContext
from livekit.agents.types import (
    ATTRIBUTE_TRANSCRIPTION_FINAL,
    ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID,
    ATTRIBUTE_TRANSCRIPTION_TRACK_ID,
    TOPIC_TRANSCRIPTION,
)

from agents.audio import SileroModel
from agents.audio.frames import SAMPLE_RATE
from agents.listening import ParticipantFeed
from agents.profiles import Profile, SessionInfo, Speaker
from agents.profiles.base import ProfileRpcError, RequestHandler

log = logging.getLogger("escuta.room")


def is_agent(p: rtc.RemoteParticipant) -> bool:
    return bool(p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT)


@dataclass
class RoomPublisher:
    """Transcripts as text streams on `lk.transcription`, sent on behalf of the speaker, the way
    livekit-agents publishes user transcriptions, so LiveKit's frontend components show them."""

    room: rtc.Room

    async def publish_transcript(self, speaker: Speaker, segment_id: str, text: str) -> None:
        if not self.room.isconnected():
            return  # the job is ending (room closed): the transcript is stored, there is nobody to tell
        attributes = {ATTRIBUTE_TRANSCRIPTION_FINAL: "true", ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID: segment_id}
        if speaker.track_sid:
            attributes[ATTRIBUTE_TRANSCRIPTION_TRACK_ID] = speaker.track_sid
        writer = await self.room.local_participant.stream_text(
            topic=TOPIC_TRANSCRIPTION, sender_identity=speaker.identity, attributes=attributes
        )
        await writer.write(text)
        await writer.aclose()

    async def send_text(
        self, topic: str, text: str, *, to: list[str] | None = None, attributes: dict[str, str] | None = None
    ) -> None:
        await self.room.local_participant.send_text(text, topic=topic, destination_identities=to, attributes=attributes)

    def record(self, kind: str, data: dict[str, object]) -> None:
        return None  # stored and published already; logs never carry transcripts


class RoomEndpoints:
    """A profile's RPC methods and text-stream topics on the agent's participant.

    Register once connected (the local participant exists only then). A handler's `ProfileRpcError`
    becomes the caller's RPC error; anything else is logged and answered with a generic error: a bad
    request never ends the job. Callers are seen as the profile sees speakers (token metadata and
    attributes from the room), so it checks who may call with the same rules.
    """

    def __init__(self, room: rtc.Room) -> None:
        self.room = room
        self._requests: set[asyncio.Task[None]] = set()  # text messages being handled

    def register(
        self,
        *,
        rpc_methods: Mapping[str, RequestHandler] | None = None,
        text_topics: Mapping[str, RequestHandler] | None = None,
    ) -> None:
        for method, handler in (rpc_methods or {}).items():
            self.room.local_participant.register_rpc_method(method, self._rpc(method, handler))
        for topic, handler in (text_topics or {}).items():
            self.room.register_text_stream_handler(topic, self._text(topic, handler))

    def caller(self, identity: str) -> Speaker:
        p = self.room.remote_participants.get(identity)
        if p is None:
            return Speaker(identity, None)
        return Speaker(identity, None, name=p.name, metadata=p.metadata, attributes=dict(p.attributes))

    def _rpc(self, method: str, handler: RequestHandler) -> Callable[[rtc.RpcInvocationData], Awaitable[str]]:
        async def invoke(data: rtc.RpcInvocationData) -> str:
            try:
                return await handler(self.caller(data.caller_identity), data.payload)
            except ProfileRpcError as exc:
                raise rtc.RpcError(rtc.RpcError.ErrorCode.APPLICATION_ERROR, str(exc)) from None
            except Exception:
                log.exception("RPC method %s failed", method)
                raise rtc.RpcError(rtc.RpcError.ErrorCode.APPLICATION_ERROR, "internal error") from None

        return invoke

    def _text(self, topic: str, handler: RequestHandler) -> Callable[[rtc.TextStreamReader, str], None]:
        async def read(reader: rtc.TextStreamReader, sender: str) -> None:
            try:
                await handler(self.caller(sender), await reader.read_all())
            except ProfileRpcError as exc:
                log.warning("message on %s refused: %s", topic, exc)
            except Exception:
                log.exception("handling a message on %s failed", topic)

        def on_stream(reader: rtc.TextStreamReader, sender: str) -> None:
            task = asyncio.create_task(read(reader, sender))
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)

        return on_stream

    async def aclose(self) -> None:
        """Wait for the messages still being handled."""
        await asyncio.gather(*self._requests, return_exceptions=True)


class _Track:
    def __init__(self, feed: ParticipantFeed, stream: rtc.AudioStream) -> None:
        self.feed = feed
        self.stream = stream
        self.task: asyncio.Task[None] | None = None


class RoomListener:
    def __init__(
        self,
        room: rtc.Room,
        profile: Profile,
        session: SessionInfo,
        *,
        vad_model: SileroModel | None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.room = room
        self.profile = profile
        self.session = session
        self.vad_model = vad_model
        origin = session.clock_origin.timestamp()
        self.clock = clock or (lambda: max(0.0, time.time() - origin))
        self.tracks: dict[str, _Track] = {}
        self._ended: list[_Track] = []  # stopped tracks whose last utterances may still be in flight
        self._background: set[asyncio.Task[None]] = set()
        self.endpoints = RoomEndpoints(room)
        self._closing = False

    def attach(self) -> None:
        """Register the room handlers; call before `ctx.connect()` so present participants are seen."""
        self.room.on("track_subscribed", self._on_subscribed)
        self.room.on("track_unsubscribed", self._on_unsubscribed)
        self.room.on("track_muted", self._on_muted)
        self.room.on("track_unmuted", self._on_unmuted)
        self.room.on("participant_disconnected", self._on_left)

    def register_endpoints(self) -> None:
        """The profile's RPC methods and text topics (see `RoomEndpoints`); call once connected."""
        self.endpoints.register(rpc_methods=self.profile.rpc_methods(), text_topics=self.profile.text_topics())

    def caller(self, identity: str) -> Speaker:
        return self.endpoints.caller(identity)

    # --- events --------------------------------------------------------------------------------------

    def _on_subscribed(
        self, track: rtc.Track, pub: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if self._closing or track.kind != rtc.TrackKind.KIND_AUDIO or is_agent(participant):
            return
        if pub.source not in (rtc.TrackSource.SOURCE_MICROPHONE, rtc.TrackSource.SOURCE_UNKNOWN):
            return  # screen-share audio is not a participant speaking
        if pub.sid in self.tracks:
            return
        speaker = Speaker(
            participant.identity,
            pub.sid,
            clock_offset=self.clock(),
            name=participant.name,
            metadata=participant.metadata,
            attributes=dict(participant.attributes),
        )
        feed = ParticipantFeed(self.profile, speaker, vad_model=self.vad_model)
        stream = rtc.AudioStream.from_track(track=track, sample_rate=SAMPLE_RATE, num_channels=1, frame_size_ms=20)
        entry = _Track(feed, stream)
        entry.task = asyncio.create_task(feed.run(_frames(stream, feed, self.clock)), name=f"listen:{pub.sid}")
        self.tracks[pub.sid] = entry
        log.info("listening to track %s (participant %s)", pub.sid, participant.sid)

    def _on_unsubscribed(
        self, track: rtc.Track, pub: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        self._stop(pub.sid)

    def _on_left(self, participant: rtc.RemoteParticipant) -> None:
        for sid in list(participant.track_publications):
            self._stop(sid)

    def _on_muted(self, participant: rtc.Participant, pub: rtc.TrackPublication) -> None:
        entry = self.tracks.get(pub.sid)
        if entry is not None:
            entry.feed.restart(self.clock())  # closes the utterance the mute cut off

    def _on_unmuted(self, participant: rtc.Participant, pub: rtc.TrackPublication) -> None:
        entry = self.tracks.get(pub.sid)
        if entry is not None:
            entry.feed.restart(self.clock())  # the chain's clock stood still while muted

    def _stop(self, sid: str) -> None:
        entry = self.tracks.pop(sid, None)
        if entry is not None:
            self._ended.append(entry)
            # Ending the stream ends `feed.run`, which flushes the open utterance.
            task = asyncio.create_task(entry.stream.aclose())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    # --- shutdown ------------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close every track (flushing open utterances) and wait for their work to finish."""
        self._closing = True
        entries = [*self.tracks.values(), *self._ended]
        for e in entries:
            await e.stream.aclose()
        await asyncio.gather(*(e.task for e in entries if e.task is not None), return_exceptions=True)
        for e in entries:
            await e.feed.close()  # no-op when run() already closed it
        await self.endpoints.aclose()


async def _frames(
    stream: rtc.AudioStream, feed: ParticipantFeed, clock: Callable[[], float]
) -> AsyncIterator[rtc.AudioFrame]:
    first = True
    async for ev in stream:
        if first:
            # Anchor the track's clock at its first frame, not at the subscription: media flows only
            # once the track is negotiated, a delay that differs per track and would misalign
            # participants on the session clock (overlap between them is judged on it).
            first = False
            f = ev.frame
            feed.restart(max(0.0, clock() - f.samples_per_channel / f.sample_rate))
        yield ev.frame


async def listen(
    job: JobContext, profile: Profile, session: SessionInfo, *, vad_model: SileroModel | None
) -> Callable[[], Awaitable[None]]:
    """The listening profiles' room: every participant's microphone through its own audio chain, and the
    profile's endpoints. Returns what closes it (flushing every open utterance)."""
    listener = RoomListener(job.room, profile, session, vad_model=vad_model)
    listener.attach()  # before connecting, so participants already present are seen
    await job.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    listener.register_endpoints()
    return listener.aclose
