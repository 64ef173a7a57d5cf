"""Two real SDK participants in one room: audio, data, text streams, RPC, attributes, disconnect."""

from __future__ import annotations

import asyncio

import pytest
from livekit import rtc

from .client import Tone, connect, dominant_frequency, event_future, on_text
from .fixtures import LiveKitServer

pytestmark = pytest.mark.livekit


async def test_two_participants_exchange_audio_data_text_and_rpc(livekit_server: LiveKitServer) -> None:
    name = livekit_server.room_name("pair")
    alice, bob = await asyncio.gather(
        connect(livekit_server, "alice", name, attributes={"role": "speaker"}),
        connect(livekit_server, "bob", name),
    )
    try:
        # Everyone sees everyone, with the token's attributes.
        async def sees(room: rtc.Room, identity: str) -> rtc.RemoteParticipant:
            for _ in range(100):
                if identity in room.remote_participants:
                    return room.remote_participants[identity]
                await asyncio.sleep(0.05)
            raise AssertionError(f"{identity} never appeared")

        alice_seen = await sees(bob, "alice")
        await sees(alice, "bob")
        assert alice_seen.attributes == {"role": "speaker"}

        # Audio: a 440 Hz tone from alice arrives at bob at 440 Hz.
        subscribed = event_future(bob, "track_subscribed", lambda track, pub, p: p.identity == "alice")
        tone = Tone(440.0)
        await tone.publish(alice)
        track, _pub, _p = await asyncio.wait_for(subscribed, 10)

        # Data, text stream and RPC go the other way while the audio flows.
        data_got = event_future(alice, "data_received", lambda pkt: pkt.topic == "t")
        texts: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        on_text(alice, "chat", lambda sender, text: texts.put_nowait((sender, text)))

        async def echo(data: rtc.RpcInvocationData) -> str:
            return f"{data.caller_identity}:{data.payload.upper()}"

        alice.local_participant.register_rpc_method("echo", echo)

        freq, _, _, rpc_answer = await asyncio.gather(
            dominant_frequency(track),
            bob.local_participant.publish_data(b"hello", topic="t", destination_identities=["alice"]),
            bob.local_participant.send_text("olá " * 2000, topic="chat"),  # several chunks
            bob.local_participant.perform_rpc(destination_identity="alice", method="echo", payload="ping"),
        )
        assert abs(freq - 440.0) < 5, freq
        (pkt,) = await asyncio.wait_for(data_got, 5)
        assert pkt.data == b"hello" and pkt.participant and pkt.participant.identity == "bob"
        sender, text = await asyncio.wait_for(texts.get(), 5)
        assert (sender, text) == ("bob", "olá " * 2000)
        assert rpc_answer == "bob:PING"
        await tone.aclose()
    finally:
        await asyncio.gather(alice.disconnect(), bob.disconnect())


async def test_destination_identities_reach_only_the_addressee(livekit_server: LiveKitServer) -> None:
    name = livekit_server.room_name("trio")
    alice, bob, carol = await asyncio.gather(*(connect(livekit_server, who, name) for who in ("alice", "bob", "carol")))
    try:
        for _ in range(100):
            if {"bob", "carol"} <= alice.remote_participants.keys() and all(
                "alice" in r.remote_participants for r in (bob, carol)
            ):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the three never saw each other")

        # Everything bob and carol get: data packets, text streams, RPC invocations.
        got: dict[str, list[tuple[str, ...]]] = {"bob": [], "carol": []}
        fences = {who: asyncio.Event() for who in got}
        bob_has_all = asyncio.Event()

        def record(who: str, *item: str | None) -> None:
            got[who].append(tuple(str(x) for x in item))
            if len(got["bob"]) == 3:
                bob_has_all.set()

        for who, room in (("bob", bob), ("carol", carol)):

            def on_data(pkt: rtc.DataPacket, who: str = who) -> None:
                if pkt.topic == "fence":
                    fences[who].set()
                else:
                    record(who, "data", pkt.topic, pkt.data.decode())

            async def on_rpc(data: rtc.RpcInvocationData, who: str = who) -> str:
                record(who, "rpc", data.method, data.payload)
                return who

            def on_private_text(sender: str, text: str, who: str = who) -> None:
                record(who, "text", sender, text)

            room.on("data_received", on_data)
            on_text(room, "private", on_private_text)
            room.local_participant.register_rpc_method("whisper", on_rpc)

        me = alice.local_participant
        _, text_info, rpc_answer = await asyncio.gather(
            me.publish_data(b"psst", topic="private", destination_identities=["bob"]),
            me.send_text("only for bob", topic="private", destination_identities=["bob"]),
            me.perform_rpc(destination_identity="bob", method="whisper", payload="hi"),
        )
        assert rpc_answer == "bob"
        # A broadcast after them on the same reliable, ordered channel: once carol has it, anything
        # addressed to her before it would have arrived too. Then a little slack on top.
        await me.publish_data(b"", topic="fence")
        await asyncio.wait_for(asyncio.gather(bob_has_all.wait(), *(f.wait() for f in fences.values())), 5)
        await asyncio.sleep(0.3)
        assert sorted(got["bob"]) == [
            ("data", "private", "psst"),
            ("rpc", "whisper", "hi"),
            ("text", "alice", "only for bob"),
        ], got
        assert text_info.topic == "private"
        assert got["carol"] == [], got
    finally:
        await asyncio.gather(alice.disconnect(), bob.disconnect(), carol.disconnect())
