"""The Twirp RoomService as livekit-api calls it, and room lifetimes."""

from __future__ import annotations

import asyncio

import pytest
from livekit import api, rtc

from .client import connect, event_future
from .fixtures import LiveKitServer

pytestmark = pytest.mark.livekit


async def test_room_service(livekit_server: LiveKitServer) -> None:
    name = livekit_server.room_name("api")
    async with livekit_server.api() as lk:
        created = await lk.room.create_room(api.CreateRoomRequest(name=name, metadata="m", departure_timeout=1))
        assert created.sid.startswith("RM_") and created.metadata == "m"
        listed = await lk.room.list_rooms(api.ListRoomsRequest(names=[name]))
        assert [r.sid for r in listed.rooms] == [created.sid]

        alice = await connect(livekit_server, "alice", name)
        bob = await connect(livekit_server, "bob", name)
        try:
            assert alice.name == name and (await alice.sid) == created.sid
            parts = await lk.room.list_participants(api.ListParticipantsRequest(room=name))
            assert sorted(p.identity for p in parts.participants) == ["alice", "bob"]

            # UpdateParticipant reaches the participant itself and the others.
            seen = event_future(bob, "participant_attributes_changed", lambda ch, p: ch.get("role") == "host")
            mine = event_future(alice, "participant_attributes_changed", lambda ch, p: ch.get("role") == "host")
            updated = await lk.room.update_participant(
                api.UpdateParticipantRequest(room=name, identity="alice", attributes={"role": "host"})
            )
            assert updated.attributes["role"] == "host"
            await asyncio.wait_for(asyncio.gather(seen, mine), 5)

            # SendData honours destination_identities: only bob gets it.
            got_bob = event_future(bob, "data_received", lambda pkt: pkt.topic == "srv")
            got_alice = event_future(alice, "data_received", lambda pkt: pkt.topic == "srv")
            await lk.room.send_data(
                api.SendDataRequest(
                    room=name,
                    data=b"from-server",
                    kind=api.DataPacket.Kind.RELIABLE,
                    topic="srv",
                    destination_identities=["bob"],
                )
            )
            (pkt,) = await asyncio.wait_for(got_bob, 5)
            assert pkt.data == b"from-server" and pkt.participant is None
            await asyncio.sleep(0.3)
            assert not got_alice.done()
            got_alice.cancel()

            # RemoveParticipant disconnects bob and tells alice.
            bob_gone = event_future(bob, "disconnected")
            alice_sees = event_future(alice, "participant_disconnected", lambda p: p.identity == "bob")
            await lk.room.remove_participant(api.RoomParticipantIdentity(room=name, identity="bob"))
            await asyncio.wait_for(asyncio.gather(bob_gone, alice_sees), 5)
            assert (await bob_gone)[0] == rtc.DisconnectReason.PARTICIPANT_REMOVED
        finally:
            await asyncio.gather(alice.disconnect(), bob.disconnect())

        # departure_timeout=1: the empty room closes on its own.
        for _ in range(40):
            if not (await lk.room.list_rooms(api.ListRoomsRequest(names=[name]))).rooms:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("empty room was not closed")

        with pytest.raises(api.TwirpError) as err:
            await lk.room.list_participants(api.ListParticipantsRequest(room=name))
        assert err.value.code == "not_found"


async def test_room_never_joined_closes_after_empty_timeout(livekit_server: LiveKitServer) -> None:
    name = livekit_server.room_name("empty")
    async with livekit_server.api() as lk:
        await lk.room.create_room(api.CreateRoomRequest(name=name, empty_timeout=1))
        assert (await lk.room.list_rooms(api.ListRoomsRequest(names=[name]))).rooms
        await asyncio.sleep(1.5)
        assert not (await lk.room.list_rooms(api.ListRoomsRequest(names=[name]))).rooms


async def test_api_refuses_a_token_without_grants(livekit_server: LiveKitServer) -> None:
    async with api.LiveKitAPI(livekit_server.http_url, livekit_server.api_key, "wrong-secret-" + "y" * 30) as lk:
        with pytest.raises(api.TwirpError) as err:
            await lk.room.list_rooms(api.ListRoomsRequest())
        assert err.value.code == "unauthenticated"
