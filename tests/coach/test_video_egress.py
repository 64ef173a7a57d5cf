"""Video recordings: the control API starts a LiveKit track egress when a meeting's video track is
published. The LiveKit test server has no Egress service, so LiveKit's Twirp route is a stub on
127.0.0.1 that decodes what livekit-api sends (protobuf) and checks its grant; the webhook is signed
exactly as LiveKit signs it. Only a real LiveKit + Egress deployment can confirm the recording itself."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from aiohttp import web
from livekit import api
from livekit.api.access_token import Claims
from livekit.protocol import egress, models

from control_api.app import create_app
from db import coach as repo
from db.tenancy import tenant_connection
from tests.accounts.helpers import put_solution, register, token_body
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET, make_settings
from tests.local_http import serve
from tests.webhook_signing import event_body, sign

ROUTE = "/twirp/livekit.Egress/StartTrackEgress"


@dataclass
class EgressStub:
    url: str
    requests: list[tuple[egress.TrackEgressRequest, Claims]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def egress_stub() -> AsyncIterator[EgressStub]:
    verifier = api.TokenVerifier(TEST_LK_KEY, TEST_LK_SECRET)
    stub = EgressStub("")

    async def start(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        try:
            claims = verifier.verify(auth.removeprefix("Bearer "))
        except Exception as exc:
            stub.refused.append(type(exc).__name__)
            return web.json_response({"code": "unauthenticated", "msg": "bad token"}, status=401)
        if request.content_type != "application/protobuf" or not claims.video or not claims.video.room_record:
            stub.refused.append("grant")
            return web.json_response({"code": "permission_denied", "msg": "needs roomRecord"}, status=403)
        req = egress.TrackEgressRequest.FromString(await request.read())
        stub.requests.append((req, claims))
        info = egress.EgressInfo(
            egress_id=f"EG_{uuid.uuid4().hex[:10]}",
            room_name=req.room_name,
            status=egress.EgressStatus.EGRESS_STARTING,
        )
        return web.Response(body=info.SerializeToString(), content_type="application/protobuf")

    app = web.Application()
    app.router.add_post(ROUTE, start)
    runner, port = await serve(app)
    stub.url = f"http://127.0.0.1:{port}"
    try:
        yield stub
    finally:
        await runner.cleanup()


async def post_event(client: httpx.AsyncClient, room: str, track: dict[str, Any], event_id: str | None = None) -> None:
    body = event_body(
        "track_published",
        room_sid="RM_video",
        room_name=room,
        event_id=event_id,
        participant={"sid": "PA_host", "identity": "ana"},
        track=track,
    )
    r = await client.post(
        "/livekit/webhook",
        content=body,
        headers={"Content-Type": "application/webhook+json", "Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)},
    )
    assert r.status_code == 200, r.text


VIDEO = {"sid": "TR_video1", "type": models.TrackType.VIDEO, "source": models.TrackSource.CAMERA}
AUDIO = {"sid": "TR_audio1", "type": models.TrackType.AUDIO, "source": models.TrackSource.MICROPHONE}


async def test_video_track_of_a_recorded_meeting_starts_a_track_egress(
    db_pool: asyncpg.Pool, database_url: str
) -> None:
    async with egress_stub() as stub:
        settings = make_settings(
            database_url=database_url, livekit_url=stub.url, agent_name="escuta", recordings_video_egress=True
        )
        app = create_app(settings, pool=db_pool)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            org = await register(client, "Org Video")
            org_id = uuid.UUID(org.org_id)
            await put_solution(client, org, "Meet", "meeting_coach")
            await put_solution(client, org, "Notes", "transcription")
            meet = (await client.post("/token", json=token_body(org.org_id, "Meet", "ana"), headers=org.headers)).json()
            notes = (
                await client.post("/token", json=token_body(org.org_id, "Notes", "ana"), headers=org.headers)
            ).json()

            # Recordings off (the default): nothing is started.
            await post_event(client, meet["room"], VIDEO)
            assert stub.requests == []
            async with tenant_connection(db_pool, org_id) as conn:
                await repo.set_coach_settings(conn, org_id, {}, recordings_enabled=True)

            await post_event(client, meet["room"], AUDIO)  # audio is the agent's job (WAV segments)
            await post_event(client, notes["room"], VIDEO)  # not a coached meeting
            assert stub.requests == []

            await post_event(client, meet["room"], VIDEO, event_id="EV_video_once")
            await post_event(client, meet["room"], VIDEO, event_id="EV_video_once")  # LiveKit's retry
    assert stub.refused == []
    assert len(stub.requests) == 1
    req, claims = stub.requests[0]
    assert (req.room_name, req.track_id) == (meet["room"], "TR_video1")
    assert req.file.filepath == "egress/video/{room_name}/{time}_{publisher_identity}_{track_id}"
    assert claims.video is not None and claims.video.room_record
    assert not claims.video.room_admin and not claims.video.room_join  # only what egress needs


async def test_egress_service_down_does_not_fail_the_webhook(db_pool: asyncpg.Pool, database_url: str) -> None:
    # Nothing listens at this address: the webhook is still acknowledged (and stored), with a warning.
    settings = make_settings(
        database_url=database_url,
        livekit_url="http://127.0.0.1:9",
        agent_name="escuta",
        recordings_video_egress=True,
        recordings_enabled=True,
    )
    app = create_app(settings, pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        org = await register(client, "Org Video Down")
        await put_solution(client, org, "Meet", "meeting_coach")
        meet = (await client.post("/token", json=token_body(org.org_id, "Meet", "ana"), headers=org.headers)).json()
        await post_event(client, meet["room"], VIDEO)
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM session_tracks WHERE track_sid = 'TR_video1'") == 1
