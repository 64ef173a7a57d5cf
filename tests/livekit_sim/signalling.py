"""`/rtc`: LiveKit's v0 signalling (protocol 16/17, two PeerConnections per participant).

Frames are binary protobuf: `SignalRequest` from the client, `SignalResponse` from us. The SDK tries
`/rtc/v1` (single-PC) first; a 404 makes it fall back to this protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiohttp import WSMsgType, web
from aiortc.mediastreams import MediaStreamTrack
from livekit.api.access_token import Claims
from livekit.protocol import models, rtc

from .context import CTX, AuthError, SimContext, bearer_token, verify
from .ids import new_id
from .media import PublishedTrack, PublisherPeer, SubscriberPeer
from .rooms import Participant, Room, RoomFull

log = logging.getLogger("livekit_sim.signalling")

SERVER_VERSION = "1.9.0-livekit-sim"
PING_INTERVAL = 5
PING_TIMEOUT = 15

_KINDS = {
    "agent": models.ParticipantInfo.AGENT,
    "sip": models.ParticipantInfo.SIP,
    "egress": models.ParticipantInfo.EGRESS,
    "ingress": models.ParticipantInfo.INGRESS,
}


def _join_claims(ctx: SimContext, request: web.Request) -> Claims:
    claims = verify(ctx, bearer_token(request))
    if claims.video is None or not claims.video.room_join or not claims.video.room:
        raise AuthError("permissions denied: token has no roomJoin grant for a room")
    return claims


async def rtc_v1(request: web.Request) -> web.Response:
    # Single-PC signalling is not implemented; 404 is what makes the SDK fall back to v0.
    return web.Response(status=404, text="not found")


async def rtc_validate(request: web.Request) -> web.Response:
    try:
        _join_claims(request.app[CTX], request)
    except AuthError as exc:
        return web.Response(status=401, text=str(exc))
    return web.Response(text="success")


async def rtc_join(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    try:
        claims = _join_claims(ctx, request)
    except AuthError as exc:
        log.info("join refused: %s", exc)
        return web.Response(status=401, text=str(exc))
    assert claims.video is not None
    video = claims.video
    room, _created = ctx.rooms.get_or_create(video.room, claims.room_config)
    participant = Participant(
        identity=claims.identity,
        name=claims.name,
        metadata=claims.metadata,
        attributes=dict(claims.attributes or {}),
        kind=_KINDS.get(claims.kind, models.ParticipantInfo.STANDARD),
        permission=models.ParticipantPermission(
            can_publish=video.can_publish,
            can_subscribe=video.can_subscribe,
            can_publish_data=video.can_publish_data,
            can_update_metadata=bool(video.can_update_own_metadata),
            can_publish_sources=video.can_publish_sources or [],
            hidden=bool(video.hidden),
            agent=bool(video.agent) or claims.kind == "agent",
        ),
    )
    ws = web.WebSocketResponse(max_msg_size=0)
    await ws.prepare(request)
    session = SignalSession(ctx, ws, room, participant, auto_subscribe=request.query.get("auto_subscribe") != "0")
    await session.run()
    return ws


class SignalSession:
    """One participant's signalling websocket and its two PeerConnections."""

    def __init__(
        self, ctx: SimContext, ws: web.WebSocketResponse, room: Room, p: Participant, *, auto_subscribe: bool
    ) -> None:
        self.ctx = ctx
        self.ws = ws
        self.room = room
        self.p = p
        self.auto_subscribe = auto_subscribe
        self.requested: set[str] = set()
        self._out: asyncio.Queue[rtc.SignalResponse | None] = asyncio.Queue()
        self._sync_task: asyncio.Task[None] | None = None
        self._sync_again = False
        self._mid_to_cid: dict[str, str] = {}
        self._pending_cids: dict[str, str] = {}  # TR_sid -> client cid, until the media arrives
        self.publisher = PublisherPeer(on_track=self._on_track, on_data=self._on_data, on_connected=self._on_connected)
        self.subscriber = SubscriberPeer(send_offer=self._send_offer)

    # --- ParticipantLink ----------------------------------------------------------------------------

    def send_signal(self, msg: rtc.SignalResponse) -> None:
        self._out.put_nowait(msg)

    def send_data(self, payload: bytes, *, reliable: bool) -> None:
        self.subscriber.send_data(payload, reliable=reliable)

    def subscriptions_changed(self) -> None:
        if self._sync_task is not None and not self._sync_task.done():
            self._sync_again = True
            return
        self._sync_task = asyncio.create_task(self._sync_subscriptions())

    async def disconnect(self, reason: models.DisconnectReason) -> None:
        self.send_signal(rtc.SignalResponse(leave=rtc.LeaveRequest(reason=reason, action=rtc.LeaveRequest.DISCONNECT)))
        self._out.put_nowait(None)  # the writer closes the socket after the leave is flushed

    # --- lifecycle ----------------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            previous = self.ctx.rooms.add(self.room, self.p)
        except RoomFull:
            await self.ws.close(code=1008, message=b"room is full")
            return
        self.p.link = self
        if previous is not None and previous.link is not None:
            await previous.link.disconnect(models.DisconnectReason.DUPLICATE_IDENTITY)
        self.send_signal(rtc.SignalResponse(join=self._join_response()))
        writer = asyncio.create_task(self._writer())
        try:
            # The subscriber PC carries data channels from the start, so data can reach the client
            # before anyone publishes media.
            await self.subscriber.negotiate()
            self.subscriptions_changed()
            async for msg in self.ws:
                if msg.type != WSMsgType.BINARY:
                    continue
                req = rtc.SignalRequest()
                req.ParseFromString(msg.data)
                log.debug("%s -> %s", self.p.identity, req.WhichOneof("message"))
                if not await self._handle(req):
                    break
        except Exception:
            log.exception("session of %s failed", self.p.identity)
        finally:
            self.ctx.rooms.remove(self.room, self.p)
            self.p.link = None
            self._out.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 2)
            if self._sync_task is not None:
                self._sync_task.cancel()
            await self.publisher.close()
            await self.subscriber.close()

    async def _writer(self) -> None:
        while True:
            msg = await self._out.get()
            if msg is None or self.ws.closed:
                break
            log.debug("%s <- %s", self.p.identity, msg.WhichOneof("message"))
            try:
                await self.ws.send_bytes(msg.SerializeToString())
            except ConnectionError:
                break
        await self.ws.close()

    def _join_response(self) -> rtc.JoinResponse:
        return rtc.JoinResponse(
            room=self.room.info(),
            participant=self.p.info(),
            other_participants=[o.info() for o in self.room.others(self.p) if not o.permission.hidden],
            server_version=SERVER_VERSION,
            server_region="livekit-sim",
            server_info=models.ServerInfo(
                edition=models.ServerInfo.Standard, version=SERVER_VERSION, protocol=16, node_id="livekit-sim"
            ),
            subscriber_primary=False,
            ping_interval=PING_INTERVAL,
            ping_timeout=PING_TIMEOUT,
        )

    # --- requests -----------------------------------------------------------------------------------

    async def _handle(self, req: rtc.SignalRequest) -> bool:
        which = req.WhichOneof("message")
        if which == "offer":
            self._mid_to_cid.update(dict(req.offer.mid_to_track_id))
            sdp = await self.publisher.answer(req.offer.sdp)
            self.send_signal(rtc.SignalResponse(answer=rtc.SessionDescription(type="answer", sdp=sdp, id=req.offer.id)))
            self._check_unpublished()
        elif which == "answer":
            await self.subscriber.on_answer(req.answer.sdp)
        elif which == "trickle":
            if req.trickle.target == rtc.SUBSCRIBER:
                await self.subscriber.add_candidate(req.trickle.candidateInit)
            else:
                await self.publisher.add_candidate(req.trickle.candidateInit)
        elif which == "add_track":
            self._add_track(req.add_track)
        elif which == "mute":
            self._mute(req.mute.sid, req.mute.muted)
        elif which == "subscription":
            sids = set(req.subscription.track_sids)
            for pt in req.subscription.participant_tracks:
                sids.update(pt.track_sids)
            if req.subscription.subscribe:
                self.requested |= sids
            else:
                self.requested -= sids
            self.subscriptions_changed()
        elif which == "update_metadata":
            self._update_metadata(req.update_metadata)
        elif which == "ping_req":
            now = int(time.time() * 1000)
            self.send_signal(
                rtc.SignalResponse(pong_resp=rtc.Pong(last_ping_timestamp=req.ping_req.timestamp, timestamp=now))
            )
        elif which == "ping":
            self.send_signal(rtc.SignalResponse(pong=int(time.time() * 1000)))
        elif which == "leave":
            return False
        else:
            log.debug("ignoring %s from %s", which, self.p.identity)
        return True

    def _add_track(self, req: rtc.AddTrackRequest) -> None:
        if req.type not in (models.AUDIO, models.VIDEO) or not self.p.permission.can_publish:
            # The SDK ignores this and times out its publish after 10 s, as with a real server that
            # never answers; LiveKit itself answers NOT_ALLOWED the same way.
            self.send_signal(
                rtc.SignalResponse(
                    request_response=rtc.RequestResponse(
                        reason=rtc.RequestResponse.NOT_ALLOWED, message="not allowed", add_track=req
                    )
                )
            )
            return
        info = models.TrackInfo(
            sid=new_id("TR"),
            type=req.type,
            name=req.name,
            source=req.source,
            muted=req.muted,
            mime_type="audio/opus" if req.type == models.AUDIO else "video/vp8",
            width=req.width,
            height=req.height,
            disable_dtx=req.disable_dtx,
            stereo=req.stereo,
            disable_red=req.disable_red,
            stream=req.stream,
            audio_features=list(req.audio_features),
        )
        self._pending_cids[info.sid] = req.cid
        self.p.pending_tracks.append(info)
        self.send_signal(rtc.SignalResponse(track_published=rtc.TrackPublishedResponse(cid=req.cid, track=info)))

    def _on_track(self, mid: str, track: MediaStreamTrack | None) -> None:
        kind = models.AUDIO if track is not None else models.VIDEO
        pending = [t for t in self.p.pending_tracks if t.type == kind]
        if not pending:
            log.warning("%s sent media on mid %s without add_track", self.p.identity, mid)
            return
        cid = self._mid_to_cid.get(mid)
        info = next((t for t in pending if cid and self._pending_cids.get(t.sid) == cid), None)
        if info is None:  # no mid_to_track_id in the offer: media arrives in add_track order
            info = pending[0]
        self.p.pending_tracks.remove(info)
        info.mid = mid
        self.ctx.rooms.publish(self.room, self.p, PublishedTrack(info, track))

    def _on_connected(self) -> None:
        # LiveKit marks a participant ACTIVE once its media connection is up; livekit-agents'
        # wait_for_participant() only returns ACTIVE participants.
        if self.p.state == models.ParticipantInfo.JOINED and self.room.participants.get(self.p.identity) is self.p:
            self.p.state = models.ParticipantInfo.ACTIVE
            self.ctx.rooms.changed(self.room, self.p)

    def _check_unpublished(self) -> None:
        gone = self.publisher.not_sending_mids()
        for sid, track in list(self.p.published.items()):
            if track.info.mid in gone:
                self.ctx.rooms.unpublish(self.room, self.p, sid)

    def _mute(self, sid: str, muted: bool) -> None:
        track = self.p.published.get(sid)
        info = track.info if track else next((t for t in self.p.pending_tracks if t.sid == sid), None)
        if info is None or info.muted == muted:
            return
        info.muted = muted
        self.ctx.rooms.changed(self.room, self.p)

    def _update_metadata(self, req: rtc.UpdateParticipantMetadata) -> None:
        if not self.p.permission.can_update_metadata:
            self.send_signal(
                rtc.SignalResponse(
                    request_response=rtc.RequestResponse(
                        request_id=req.request_id,
                        reason=rtc.RequestResponse.NOT_ALLOWED,
                        message="does not have permission to update own metadata",
                        update_metadata=req,
                    )
                )
            )
            return
        apply_metadata_update(self.p, name=req.name, metadata=req.metadata, attributes=dict(req.attributes))
        self.ctx.rooms.changed(self.room, self.p)
        if req.request_id:
            self.send_signal(
                rtc.SignalResponse(
                    request_response=rtc.RequestResponse(request_id=req.request_id, reason=rtc.RequestResponse.OK)
                )
            )

    def _on_data(self, payload: bytes, reliable: bool) -> None:
        if not self.p.permission.can_publish_data:
            return
        packet = models.DataPacket()
        try:
            packet.ParseFromString(payload)
        except Exception:
            log.warning("undecodable data packet from %s", self.p.identity)
            return
        self.ctx.rooms.route_data(self.room, self.p, packet, reliable=reliable)

    # --- subscriptions ------------------------------------------------------------------------------

    def _send_offer(self, sdp: str, offer_id: int) -> None:
        self.send_signal(rtc.SignalResponse(offer=rtc.SessionDescription(type="offer", sdp=sdp, id=offer_id)))

    def _wanted(self) -> dict[str, tuple[Participant, PublishedTrack]]:
        if not self.p.permission.can_subscribe:
            return {}
        out: dict[str, tuple[Participant, PublishedTrack]] = {}
        for other in self.room.others(self.p):
            for sid, track in other.published.items():
                if track.relayed and (self.auto_subscribe or sid in self.requested):
                    out[sid] = (other, track)
        return out

    async def _sync_subscriptions(self) -> None:
        while True:
            self._sync_again = False
            wanted = self._wanted()
            current = self.subscriber.track_sids
            for sid in current - set(wanted):
                await self.subscriber.remove_track(sid)
            for sid in set(wanted) - current:
                publisher, track = wanted[sid]
                self.subscriber.add_track(publisher.sid, sid, track.subscribe())
            if current != set(wanted):
                await self.subscriber.negotiate()
            if not self._sync_again:
                return


def apply_metadata_update(p: Participant, *, name: str, metadata: str, attributes: dict[str, str]) -> None:
    """LiveKit semantics: empty name/metadata leave the old value; an empty attribute value deletes it."""
    if name:
        p.name = name
    if metadata:
        p.metadata = metadata
    for key, value in attributes.items():
        if value:
            p.attributes[key] = value
        else:
            p.attributes.pop(key, None)
