"""The Twirp routes livekit-api calls: `POST /twirp/livekit.<Service>/<Method>`, protobuf in and out.

Errors are Twirp JSON (`{"code", "msg"}`) with the matching HTTP status, which livekit-api raises as
`api.TwirpError`. Grants are checked the way LiveKit checks them (roomCreate, roomList, roomAdmin for
the named room).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from aiohttp import web
from google.protobuf.json_format import MessageToJson, Parse
from google.protobuf.message import Message
from livekit import api
from livekit.api.access_token import Claims
from livekit.protocol import agent_dispatch, models, rtc
from livekit.protocol import room as room_pb

from .context import CTX, AuthError, SimContext, bearer_token, verify
from .rooms import Room
from .signalling import apply_metadata_update

log = logging.getLogger("livekit_sim.twirp")


class TwirpError(Exception):
    STATUS: ClassVar[dict[str, int]] = {
        "unauthenticated": 401,
        "permission_denied": 403,
        "not_found": 404,
        "bad_route": 404,
        "invalid_argument": 400,
        "already_exists": 409,
    }

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg

    def response(self) -> web.Response:
        return web.json_response({"code": self.code, "msg": self.msg}, status=self.STATUS.get(self.code, 500))


Handler = Callable[[SimContext, Claims, Message], Awaitable[Message]]


@dataclass(frozen=True)
class Route:
    request: type[Message]
    handler: Handler
    grant: str  # "room_create" | "room_list" | "room_admin"


def _need(claims: Claims, grant: str, room: str) -> None:
    video = claims.video or api.VideoGrants()
    if grant == "room_admin":
        if not video.room_admin or (video.room and room and video.room != room):
            raise TwirpError("permission_denied", "requires roomAdmin for this room")
    elif not getattr(video, grant):
        raise TwirpError("permission_denied", f"requires {grant}")


def _room(ctx: SimContext, name: str) -> Room:
    room = ctx.rooms.find_room(name)
    if room is None:
        raise TwirpError("not_found", f"room {name} does not exist")
    return room


# --- RoomService ------------------------------------------------------------------------------------


async def create_room(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.CreateRoomRequest)
    if not req.name:
        raise TwirpError("invalid_argument", "room name is required")
    config = room_pb.RoomConfiguration(
        empty_timeout=req.empty_timeout,
        departure_timeout=req.departure_timeout,
        max_participants=req.max_participants,
        metadata=req.metadata,
        agents=req.agents,
    )
    room, _ = ctx.rooms.get_or_create(req.name, config)
    return room.info()


async def list_rooms(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.ListRoomsRequest)
    names = set(req.names)
    rooms = [r.info() for r in ctx.rooms.rooms.values() if not r.closed and (not names or r.name in names)]
    return room_pb.ListRoomsResponse(rooms=rooms)


async def delete_room(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.DeleteRoomRequest)
    await ctx.rooms.close(_room(ctx, req.room), models.DisconnectReason.ROOM_DELETED)
    return room_pb.DeleteRoomResponse()


async def list_participants(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.ListParticipantsRequest)
    room = _room(ctx, req.room)
    return room_pb.ListParticipantsResponse(participants=[p.info() for p in room.participants.values()])


async def get_participant(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.RoomParticipantIdentity)
    p = _room(ctx, req.room).participants.get(req.identity)
    if p is None:
        raise TwirpError("not_found", "participant not found")
    return p.info()


async def remove_participant(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.RoomParticipantIdentity)
    room = _room(ctx, req.room)
    p = room.participants.get(req.identity)
    if p is None:
        raise TwirpError("not_found", "participant not found")
    if p.link is not None:
        await p.link.disconnect(models.DisconnectReason.PARTICIPANT_REMOVED)
    else:
        ctx.rooms.remove(room, p)
    return room_pb.RemoveParticipantResponse()


async def update_participant(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.UpdateParticipantRequest)
    room = _room(ctx, req.room)
    p = room.participants.get(req.identity)
    if p is None:
        raise TwirpError("not_found", "participant not found")
    apply_metadata_update(p, name=req.name, metadata=req.metadata, attributes=dict(req.attributes))
    if req.HasField("permission"):
        p.permission.CopyFrom(req.permission)
    ctx.rooms.changed(room, p)
    return p.info()


async def mute_published_track(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.MuteRoomTrackRequest)
    room = _room(ctx, req.room)
    p = room.participants.get(req.identity)
    track = p.published.get(req.track_sid) if p else None
    if p is None or track is None:
        raise TwirpError("not_found", "track not found")
    track.info.muted = req.muted
    if p.link is not None:  # the publisher's SDK mutes its local track when told to
        p.link.send_signal(rtc.SignalResponse(mute=rtc.MuteTrackRequest(sid=req.track_sid, muted=req.muted)))
    ctx.rooms.changed(room, p)
    return room_pb.MuteRoomTrackResponse(track=track.info)


async def send_data(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.SendDataRequest)
    room = _room(ctx, req.room)
    packet = models.DataPacket(
        kind=req.kind,
        destination_identities=req.destination_identities,
        user=models.UserPacket(payload=req.data, topic=req.topic, nonce=req.nonce),
    )
    ctx.rooms.route_data(room, None, packet, reliable=req.kind == models.DataPacket.RELIABLE)
    return room_pb.SendDataResponse()


async def update_room_metadata(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, room_pb.UpdateRoomMetadataRequest)
    room = _room(ctx, req.room)
    room.metadata = req.metadata
    msg = rtc.SignalResponse(room_update=rtc.RoomUpdate(room=room.info()))
    for p in room.participants.values():
        if p.link is not None:
            p.link.send_signal(msg)
    return room.info()


# --- AgentDispatchService ---------------------------------------------------------------------------


async def create_dispatch(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, agent_dispatch.CreateAgentDispatchRequest)
    room, _ = ctx.rooms.get_or_create(req.room)
    return ctx.dispatcher.create_dispatch(room, req.agent_name, req.metadata).proto()


async def list_dispatch(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, agent_dispatch.ListAgentDispatchRequest)
    ds = [d.proto() for d in ctx.dispatcher.list_dispatches(req.room)]
    if req.dispatch_id:
        ds = [d for d in ds if d.id == req.dispatch_id]
    return agent_dispatch.ListAgentDispatchResponse(agent_dispatches=ds)


async def delete_dispatch(ctx: SimContext, claims: Claims, req: Message) -> Message:
    assert isinstance(req, agent_dispatch.DeleteAgentDispatchRequest)
    d = ctx.dispatcher.delete_dispatch(req.room, req.dispatch_id)
    if d is None:
        raise TwirpError("not_found", "dispatch not found")
    return d.proto()


ROUTES: dict[str, Route] = {
    "RoomService/CreateRoom": Route(room_pb.CreateRoomRequest, create_room, "room_create"),
    "RoomService/ListRooms": Route(room_pb.ListRoomsRequest, list_rooms, "room_list"),
    "RoomService/DeleteRoom": Route(room_pb.DeleteRoomRequest, delete_room, "room_create"),
    "RoomService/ListParticipants": Route(room_pb.ListParticipantsRequest, list_participants, "room_admin"),
    "RoomService/GetParticipant": Route(room_pb.RoomParticipantIdentity, get_participant, "room_admin"),
    "RoomService/RemoveParticipant": Route(room_pb.RoomParticipantIdentity, remove_participant, "room_admin"),
    "RoomService/UpdateParticipant": Route(room_pb.UpdateParticipantRequest, update_participant, "room_admin"),
    "RoomService/MutePublishedTrack": Route(room_pb.MuteRoomTrackRequest, mute_published_track, "room_admin"),
    "RoomService/SendData": Route(room_pb.SendDataRequest, send_data, "room_admin"),
    "RoomService/UpdateRoomMetadata": Route(room_pb.UpdateRoomMetadataRequest, update_room_metadata, "room_admin"),
    "AgentDispatchService/CreateDispatch": Route(
        agent_dispatch.CreateAgentDispatchRequest, create_dispatch, "room_admin"
    ),
    "AgentDispatchService/ListDispatch": Route(agent_dispatch.ListAgentDispatchRequest, list_dispatch, "room_admin"),
    "AgentDispatchService/DeleteDispatch": Route(
        agent_dispatch.DeleteAgentDispatchRequest, delete_dispatch, "room_admin"
    ),
}


async def twirp_handler(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    route = ROUTES.get(f"{request.match_info['service']}/{request.match_info['method']}")
    try:
        if route is None:
            raise TwirpError("bad_route", f"no handler for {request.path}")
        try:
            claims = verify(ctx, bearer_token(request))
        except AuthError as exc:
            raise TwirpError("unauthenticated", str(exc)) from None
        body = await request.read()
        as_json = request.content_type == "application/json"
        req = route.request()
        try:
            if as_json:
                Parse(body.decode() or "{}", req)
            else:
                req.ParseFromString(body)
        except Exception:
            raise TwirpError("invalid_argument", "malformed request body") from None
        _need(claims, route.grant, getattr(req, "room", ""))
        resp = await route.handler(ctx, claims, req)
    except TwirpError as exc:
        return exc.response()
    if as_json:
        return web.Response(text=MessageToJson(resp), content_type="application/json")
    return web.Response(body=resp.SerializeToString(), content_type="application/protobuf")
