"""The LiveAvatar stub speaks what livekit-plugins-liveavatar's own client sends and expects."""

from __future__ import annotations

import base64
import uuid

import aiohttp
import pytest
from livekit import rtc
from livekit.agents import APIConnectOptions, APIStatusError
from livekit.plugins.liveavatar.api import LiveAvatarAPI

from tests.avatar.conftest import STUB_AVATAR, STUB_KEY
from tests.conftest import TEST_LK_PUBLIC_URL
from tests.liveavatar_stub import LiveAvatarStub

NO_RETRY = APIConnectOptions(max_retry=1, retry_interval=0.0)


async def test_token_start_stop_with_the_plugin_client(liveavatar: LiveAvatarStub) -> None:
    api = LiveAvatarAPI(STUB_KEY, api_url=liveavatar.api_url, conn_options=NO_RETRY)
    created = await api.create_streaming_session(
        livekit_url=TEST_LK_PUBLIC_URL, livekit_token="jwt", room=rtc.Room(), avatar_id=STUB_AVATAR
    )
    assert created["code"] == 1000
    sid, token = created["data"]["session_id"], created["data"]["session_token"]
    started = await api.start_streaming_session(sid, token)
    assert started["code"] == 1000 and started["data"]["ws_url"].startswith("ws://127.0.0.1:")
    session = liveavatar.sessions[sid]
    assert session.avatar_id == STUB_AVATAR and session.request["mode"] == "LITE"
    assert session.request["livekit_config"]["livekit_client_token"] == "jwt"
    assert started["data"]["livekit_url"] == TEST_LK_PUBLIC_URL and liveavatar.unreachable_urls == []
    await api.stop_streaming_session(sid, token)
    assert session.stopped_reason == "USER_DISCONNECTED"


@pytest.mark.parametrize(
    "url",
    [
        "ws://127.0.0.1:7880",  # LIVEKIT_URL's default
        "ws://livekit:7880",  # docker-compose's service name
        "wss://10.213.7.2:7880",  # a private address (the LiveKit test server's)
        "ws://localhost:7880",
        "wss://lk.other-project.example",  # public, but not the URL this test's platform publishes
    ],
)
async def test_a_url_liveavatar_could_not_reach_is_refused_at_start(liveavatar: LiveAvatarStub, url: str) -> None:
    api = LiveAvatarAPI(STUB_KEY, api_url=liveavatar.api_url, conn_options=NO_RETRY)
    created = await api.create_streaming_session(
        livekit_url=url, livekit_token="jwt", room=rtc.Room(), avatar_id=STUB_AVATAR
    )
    sid, token = created["data"]["session_id"], created["data"]["session_token"]
    with pytest.raises(APIStatusError) as refused:
        await api.start_streaming_session(sid, token)
    assert refused.value.status_code == 400
    assert liveavatar.unreachable_urls == [url] and not liveavatar.sessions[sid].started


async def test_wrong_key_and_unknown_avatar_are_refused(liveavatar: LiveAvatarStub) -> None:
    wrong = LiveAvatarAPI("la-key-of-someone-else-000000", api_url=liveavatar.api_url, conn_options=NO_RETRY)
    with pytest.raises(APIStatusError) as bad_key:
        await wrong.create_streaming_session(
            livekit_url="ws://x", livekit_token="t", room=rtc.Room(), avatar_id=STUB_AVATAR
        )
    assert bad_key.value.status_code == 401
    right = LiveAvatarAPI(STUB_KEY, api_url=liveavatar.api_url, conn_options=NO_RETRY)
    with pytest.raises(APIStatusError) as bad_avatar:
        await right.create_streaming_session(livekit_url="ws://x", livekit_token="t", room=rtc.Room(), avatar_id="nope")
    assert bad_avatar.value.status_code == 404
    assert liveavatar.sessions == {} and liveavatar.rejected_keys == ["la-…"]


async def test_websocket_records_speech_and_answers_per_turn(liveavatar: LiveAvatarStub) -> None:
    api = LiveAvatarAPI(STUB_KEY, api_url=liveavatar.api_url, conn_options=NO_RETRY)
    created = await api.create_streaming_session(
        livekit_url=TEST_LK_PUBLIC_URL, livekit_token="t", room=rtc.Room(), avatar_id=STUB_AVATAR
    )
    sid, token = created["data"]["session_id"], created["data"]["session_token"]
    ws_url = (await api.start_streaming_session(sid, token))["data"]["ws_url"]
    pcm = b"\x01\x00" * 24000  # one second at 24 kHz
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as ws:
        assert (await ws.receive_json()) == {"type": "session.state_updated", "state": "connected"}
        audio = base64.b64encode(pcm).decode()
        await ws.send_json({"type": "agent.speak", "event_id": str(uuid.uuid4()), "audio": audio})
        assert (await ws.receive_json())["type"] == "agent.speak_started"
        await ws.send_json({"type": "agent.speak_end", "event_id": str(uuid.uuid4())})
        assert (await ws.receive_json())["type"] == "agent.speak_ended"
        await ws.send_json({"type": "agent.speak", "event_id": str(uuid.uuid4()), "audio": audio})
        assert (await ws.receive_json())["type"] == "agent.speak_started"
        await ws.send_json({"type": "agent.interrupt", "event_id": str(uuid.uuid4())})
        assert (await ws.receive_json())["type"] == "agent.speak_interrupted"
        await ws.send_json({"type": "agent.stop_listening", "event_id": str(uuid.uuid4())})
        await liveavatar.wait_for(lambda s: len(s.sessions[sid].events) == 5)
    session = liveavatar.sessions[sid]
    assert session.types() == [
        "agent.speak",
        "agent.speak_end",
        "agent.speak",
        "agent.interrupt",
        "agent.stop_listening",
    ]
    assert session.turns == [pcm] and session.audio_seconds() == 1.0
    assert "audio" not in session.events[0] and session.events[0]["audio_bytes"] == len(pcm)
