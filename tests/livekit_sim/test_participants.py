"""Participant state through the server: attributes, metadata, name, mute, unpublish, disconnect, auth."""

from __future__ import annotations

import asyncio
import datetime

import pytest
from livekit import api, rtc

from .client import Tone, connect, event_future
from .fixtures import LiveKitServer

pytestmark = pytest.mark.livekit


async def test_changes_and_disconnect_reach_the_other(livekit_server: LiveKitServer) -> None:
    name = livekit_server.room_name("changes")
    alice = await connect(livekit_server, "alice", name)
    bob = await connect(livekit_server, "bob", name)
    tone = Tone(300.0)
    try:
        published = event_future(bob, "track_subscribed")
        pub = await tone.publish(alice)
        await asyncio.wait_for(published, 10)

        attrs = event_future(bob, "participant_attributes_changed", lambda changed, p: "mood" in changed)
        meta = event_future(bob, "participant_metadata_changed", lambda p, old, new: new == '{"x":1}')
        renamed = event_future(bob, "participant_name_changed", lambda p, old, new: new == "Alice")
        muted = event_future(bob, "track_muted", lambda p, publication: publication.sid == pub.sid)
        await alice.local_participant.set_attributes({"mood": "happy"})
        await alice.local_participant.set_metadata('{"x":1}')
        await alice.local_participant.set_name("Alice")
        tone.track.mute()
        (changed, who), *_ = await asyncio.wait_for(asyncio.gather(attrs, meta, renamed, muted), 10)
        assert who.identity == "alice" and changed == {"mood": "happy"}
        assert bob.remote_participants["alice"].attributes == {"mood": "happy"}

        # Video is announced (publish succeeds, others see the publication) but carries no media.
        video_seen = event_future(
            bob, "track_published", lambda publication, p: publication.kind == rtc.TrackKind.KIND_VIDEO
        )
        camera = rtc.LocalVideoTrack.create_video_track("cam", rtc.VideoSource(64, 64))
        await alice.local_participant.publish_track(
            camera, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
        )
        await asyncio.wait_for(video_seen, 10)

        unpublished = event_future(bob, "track_unpublished", lambda publication, p: publication.sid == pub.sid)
        await alice.local_participant.unpublish_track(pub.sid)
        await asyncio.wait_for(unpublished, 10)

        gone = event_future(bob, "participant_disconnected", lambda p: p.identity == "alice")
        await alice.disconnect()
        await asyncio.wait_for(gone, 10)
        assert "alice" not in bob.remote_participants
    finally:
        await tone.aclose()
        await asyncio.gather(alice.disconnect(), bob.disconnect())


@pytest.mark.parametrize("case", ["wrong_secret", "wrong_key", "expired", "no_room_grant"])
async def test_bad_token_is_refused(livekit_server: LiveKitServer, case: str) -> None:
    room = livekit_server.room_name("auth")
    grants = api.VideoGrants(room_join=True, room=room)
    key, secret, ttl = livekit_server.api_key, livekit_server.api_secret, datetime.timedelta(minutes=5)
    if case == "wrong_secret":
        secret = "not-the-secret-" + "x" * 32
    elif case == "wrong_key":
        key = "APIsomeoneelse"
    elif case == "expired":
        ttl = datetime.timedelta(seconds=-120)  # beyond the verifier's leeway
    else:
        grants = api.VideoGrants(room_list=True)
    token = api.AccessToken(key, secret).with_identity("mallory").with_ttl(ttl).with_grants(grants).to_jwt()
    r = rtc.Room()
    with pytest.raises(rtc.ConnectError):
        await asyncio.wait_for(r.connect(livekit_server.url, token), 20)
    assert room not in livekit_server.state()["rooms"]


async def test_same_identity_replaces_the_older_session(livekit_server: LiveKitServer) -> None:
    name = livekit_server.room_name("dup")
    first = await connect(livekit_server, "dana", name)
    kicked = event_future(first, "disconnected")
    second = await connect(livekit_server, "dana", name)
    try:
        (reason,) = await asyncio.wait_for(kicked, 10)
        assert reason == rtc.DisconnectReason.DUPLICATE_IDENTITY
        assert livekit_server.state()["rooms"][name]["participants"] == ["dana"]
    finally:
        await asyncio.gather(first.disconnect(), second.disconnect())
