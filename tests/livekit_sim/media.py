"""WebRTC transports for one participant, on aiortc.

LiveKit's v0 protocol gives each participant two PeerConnections: the *publisher* PC (the client offers,
we answer; the client's media and data channels arrive here) and the *subscriber* PC (we offer; other
participants' audio and everyone's data packets go out here). A real SFU forwards RTP untouched; this
test double decodes each published audio track once and re-encodes it per subscriber through an aiortc
MediaRelay, which is plenty for tests and far simpler.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp
from livekit.protocol import models

log = logging.getLogger("livekit_sim.media")


def rtc_configuration() -> RTCConfiguration:
    # No ICE servers: aiortc would otherwise ask a public STUN server, and traffic must stay on the
    # namespace addresses. Max-bundle matches what libwebrtc clients expect from LiveKit.
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


async def add_trickled_candidate(pc: RTCPeerConnection, candidate_init: str) -> None:
    """Apply a client's trickled candidate (`{"candidate","sdpMid","sdpMLineIndex"}` JSON)."""
    init = json.loads(candidate_init)
    text = str(init.get("candidate") or "")
    if not text:
        return  # end-of-candidates marker
    if text.startswith("candidate:"):
        text = text[len("candidate:") :]
    cand = candidate_from_sdp(text)
    cand.sdpMid = init.get("sdpMid")
    cand.sdpMLineIndex = init.get("sdpMLineIndex")
    try:
        await pc.addIceCandidate(cand)
    except Exception as exc:  # a candidate for an m-line we do not know must not kill the session
        log.debug("ignoring candidate %r: %s", text, exc)


class PublishedTrack:
    """One published track. Audio is decoded once and fanned out to any number of subscribers; video
    is announced but carries no media (see README: video is not relayed)."""

    def __init__(self, info: models.TrackInfo, source: MediaStreamTrack | None) -> None:
        self.info = info
        self._source = source
        self._relay = MediaRelay()
        self._drain: asyncio.Task[None] | None = None
        if source is not None:
            # Keep the relay reading even with no subscriber, so a late subscriber hears live audio
            # instead of everything aiortc buffered since the track arrived.
            self._drain = asyncio.create_task(self._drain_forever(self._relay.subscribe(source, buffered=False)))

    @property
    def relayed(self) -> bool:
        return self._source is not None

    def subscribe(self) -> MediaStreamTrack:
        assert self._source is not None
        return self._relay.subscribe(self._source, buffered=True)

    @staticmethod
    async def _drain_forever(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()

    def close(self) -> None:
        if self._drain is not None:
            self._drain.cancel()


class PublisherPeer:
    """The PC the client publishes on. Maps incoming audio (by mid) to the TrackInfo it announced."""

    def __init__(
        self,
        *,
        on_track: Callable[[str, MediaStreamTrack | None], None],
        on_data: Callable[[bytes, bool], None],
        on_connected: Callable[[], None],
    ) -> None:
        self.pc = RTCPeerConnection(rtc_configuration())
        self._on_track = on_track
        self._on_data = on_data
        self._pending_candidates: list[str] = []
        self.pc.on("track", self._track)
        self.pc.on("datachannel", self._datachannel)

        @self.pc.on("connectionstatechange")
        def _state() -> None:
            if self.pc.connectionState == "connected":
                on_connected()

    def _track(self, track: MediaStreamTrack) -> None:
        transceiver = next((t for t in self.pc.getTransceivers() if t.receiver.track is track), None)
        if transceiver is None or transceiver.mid is None:
            return
        if track.kind == "audio":
            self._on_track(transceiver.mid, track)
        else:
            # Video is accepted but not relayed: answering this m-line inactive means the client never
            # sends it, so there is nothing to decode.
            transceiver.direction = "inactive"
            self._on_track(transceiver.mid, None)

    def _datachannel(self, channel: RTCDataChannel) -> None:
        reliable = channel.label != "_lossy"

        @channel.on("message")
        def _message(message: bytes | str) -> None:
            if isinstance(message, bytes):
                self._on_data(message, reliable)

    async def answer(self, sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        for cand in self._pending_candidates:
            await add_trickled_candidate(self.pc, cand)
        self._pending_candidates.clear()
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return self.pc.localDescription.sdp

    def not_sending_mids(self) -> set[str]:
        """Mids whose latest remote offer no longer sends (the client unpublished that track)."""
        out: set[str] = set()
        for t in self.pc.getTransceivers():
            # aiortc stores the offer's direction reversed, from our side: "recvonly" means the client sends.
            direction = getattr(t, "_offerDirection", None)
            if t.mid is not None and (t.stopped or direction in ("sendonly", "inactive")):
                out.add(t.mid)
        return out

    async def add_candidate(self, candidate_init: str) -> None:
        if self.pc.remoteDescription is None:
            self._pending_candidates.append(candidate_init)
        else:
            await add_trickled_candidate(self.pc, candidate_init)

    async def close(self) -> None:
        await self.pc.close()


class SubscriberPeer:
    """The PC we offer to the client: other participants' audio plus the data channels towards it."""

    def __init__(self, *, send_offer: Callable[[str, int], None]) -> None:
        self.pc = RTCPeerConnection(rtc_configuration())
        self._send_offer = send_offer
        self._offer_id = 0
        self._negotiating = False
        self._again = False
        self._pending_candidates: list[str] = []
        self._senders: dict[str, tuple[RTCRtpTransceiver, MediaStreamTrack]] = {}
        self._queued: dict[bool, list[bytes]] = {True: [], False: []}
        self._channels = {
            True: self.pc.createDataChannel("_reliable", ordered=True),
            False: self.pc.createDataChannel("_lossy", ordered=False, maxRetransmits=0),
        }
        for reliable, channel in self._channels.items():
            channel.on("open", self._flusher(reliable))
        self._lock = asyncio.Lock()

    def _flusher(self, reliable: bool) -> Callable[[], None]:
        def flush() -> None:
            queued, self._queued[reliable] = self._queued[reliable], []
            for payload in queued:
                self._channels[reliable].send(payload)

        return flush

    def send_data(self, payload: bytes, *, reliable: bool) -> None:
        channel = self._channels[reliable]
        if channel.readyState == "open":
            channel.send(payload)
        elif channel.readyState == "connecting":
            # Data sent right after a join must not be lost while the subscriber PC connects.
            self._queued[reliable].append(payload)

    @property
    def track_sids(self) -> set[str]:
        return set(self._senders)

    def add_track(self, participant_sid: str, track_sid: str, track: MediaStreamTrack) -> None:
        transceiver = self.pc.addTransceiver(track, direction="sendonly")
        sender: RTCRtpSender = transceiver.sender
        # The SDK attributes a remote track by its msid: stream "<PA_sid>|<TR_sid>", track "<TR_sid>".
        sender._stream_id = f"{participant_sid}|{track_sid}"
        sender._track_id = track_sid
        self._senders[track_sid] = (transceiver, track)

    async def remove_track(self, track_sid: str) -> None:
        entry = self._senders.pop(track_sid, None)
        if entry is None:
            return
        transceiver, track = entry
        # A fresh transceiver per subscription (never reuse): libwebrtc keeps a receiver's track id
        # for the life of the m-line, so reusing one would confuse track attribution.
        transceiver.direction = "inactive"
        track.stop()
        await transceiver.sender.stop()

    async def negotiate(self) -> None:
        """Send a new offer; if one is in flight, send another once it is answered."""
        async with self._lock:
            if self._negotiating:
                self._again = True
                return
            self._negotiating = True
            offer = await self.pc.createOffer()
            await self.pc.setLocalDescription(offer)
            self._offer_id += 1
            self._send_offer(self.pc.localDescription.sdp, self._offer_id)

    async def on_answer(self, sdp: str) -> None:
        async with self._lock:
            if self.pc.signalingState != "have-local-offer":
                return
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            for cand in self._pending_candidates:
                await add_trickled_candidate(self.pc, cand)
            self._pending_candidates.clear()
            self._negotiating = False
            again, self._again = self._again, False
        if again:
            await self.negotiate()

    async def add_candidate(self, candidate_init: str) -> None:
        if self.pc.remoteDescription is None:
            self._pending_candidates.append(candidate_init)
        else:
            await add_trickled_candidate(self.pc, candidate_init)

    async def close(self) -> None:
        for _, track in self._senders.values():
            track.stop()
        self._senders.clear()
        await self.pc.close()
