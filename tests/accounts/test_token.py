"""`POST /token` (seed 003): shape, verification, grants, dispatch, credentials and refusals."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import asyncpg
import httpx
import jwt
from fastapi import FastAPI
from livekit import api

from control_api.app import create_app
from control_api.credential_cache import credential_cache
from control_api.principals import Principal
from control_api.services.tokens import TokenBody, mint, participant_fields
from tests.accounts.helpers import Org, device_for_org, from_address, put_solution, register, token_body
from tests.conftest import TEST_ADMIN_TOKEN, TEST_LK_KEY, TEST_LK_PUBLIC_URL, TEST_LK_SECRET, make_settings
from tests.webhook_signing import event_body, sign


async def test_seed_003_shape_and_verified_claims(client: httpx.AsyncClient) -> None:
    org = await register(client)
    await put_solution(client, org, "AiHelper", "meeting_coach")
    device = await device_for_org(client, org)
    r = await client.post(
        "/token", json=token_body(org.org_id), headers={"Authorization": f"Bearer {device['api_key']}"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    room = f"AiHelper-{org.org_id}-Daniel"
    assert set(body) == {"token", "room", "identity", "apiKey", "url"}
    assert body["room"] == room and body["identity"] == room
    assert body["apiKey"] == TEST_LK_KEY and body["url"] == TEST_LK_PUBLIC_URL  # ESCUTA_LIVEKIT_PUBLIC_URL

    claims = api.TokenVerifier(TEST_LK_KEY, TEST_LK_SECRET).verify(body["token"])
    assert claims.identity == room and claims.name == "Daniel"
    video = claims.video
    assert video is not None
    assert video.room == room and video.room_join and video.can_publish and video.can_subscribe
    assert video.can_publish_data
    assert not video.room_admin and not video.hidden and not video.room_create and not video.room_list
    assert claims.room_config is not None
    [dispatch] = claims.room_config.agents
    assert dispatch.agent_name == "escuta"
    assert json.loads(dispatch.metadata) == {"profile": "meeting_coach", "org_id": org.org_id, "solution": "AiHelper"}
    meta = json.loads(claims.metadata)
    assert meta["roles"] == ["device"] and meta["deviceId"] == device["balcao_id"]
    assert claims.attributes is not None and claims.attributes["escuta.device_id"] == device["balcao_id"]
    raw = jwt.decode(body["token"], options={"verify_signature": False})
    assert 590 <= raw["exp"] - time.time() <= 600  # 10-minute TTL


async def test_user_token_gets_host_role(client: httpx.AsyncClient) -> None:
    org = await register(client)
    await put_solution(client, org)
    r = await client.post("/token", json=token_body(org.org_id, user="ana"), headers=org.headers)
    assert r.status_code == 200
    claims = api.TokenVerifier(TEST_LK_KEY, TEST_LK_SECRET).verify(r.json()["token"])
    assert json.loads(claims.metadata) == {"roles": ["host"], "name": "ana"}
    assert claims.attributes is not None and claims.attributes["escuta.role"] == "host"


async def test_refusals(client: httpx.AsyncClient) -> None:
    a = await register(client, "A")
    b = await register(client, "B")
    await put_solution(client, a)
    await put_solution(client, b)
    # No credential at all, or a junk key.
    assert (await client.post("/token", json=token_body(a.org_id))).status_code == 401
    r = await client.post("/token", json=token_body(a.org_id), headers={"X-API-Key": "bk_" + "0" * 60})
    assert r.status_code == 401
    # clientId of another organization.
    r = await client.post("/token", json=token_body(b.org_id), headers=a.headers)
    assert r.status_code == 403
    # A solution this organization did not configure.
    r = await client.post("/token", json=token_body(a.org_id, solution="Other"), headers=a.headers)
    assert r.status_code == 404
    # Missing or invalid fields: 400 naming the field.
    for field in ("solution", "clientId", "userId"):
        payload = token_body(a.org_id)
        del payload[field]
        r = await client.post("/token", json=payload, headers=a.headers)
        assert r.status_code == 400 and field in r.json()["error"]["message"], r.text
    # Seed 003's names pass (spaces, capitals, hyphens); only what a LiveKit room cannot carry is refused.
    for bad in ("a\nb", " Daniel", "Daniel ", "tab\there", "x" * 129, ""):
        r = await client.post("/token", json={**token_body(a.org_id), "userId": bad}, headers=a.headers)
        assert r.status_code == 400 and "userId" in r.json()["error"]["message"], bad


async def _publishable(client: httpx.AsyncClient, org: Org, origin: str) -> str:
    r = await client.post("/keys/publishable", json={"name": "site", "allowedOrigins": [origin]}, headers=org.headers)
    assert r.status_code == 201, r.text
    key: str = r.json()["key"]
    assert key.startswith("pk_")
    return key


async def test_publishable_key_origins(client: httpx.AsyncClient) -> None:
    org = await register(client)
    await put_solution(client, org)
    key = await _publishable(client, org, "https://helper.aivoice.com.br")
    ok = {"X-API-Key": key, "Origin": "https://helper.aivoice.com.br"}
    r = await client.post("/token", json=token_body(org.org_id, user="visitor"), headers=ok)
    assert r.status_code == 200
    claims = api.TokenVerifier(TEST_LK_KEY, TEST_LK_SECRET).verify(r.json()["token"])
    assert json.loads(claims.metadata)["roles"] == ["guest"]
    for bad in ({"X-API-Key": key, "Origin": "https://evil.example.com"}, {"X-API-Key": key}):
        r = await client.post("/token", json=token_body(org.org_id), headers=bad)
        assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"
    # Its own organization only.
    other = await register(client, "Other")
    r = await client.post("/token", json=token_body(other.org_id), headers=ok)
    assert r.status_code == 403
    # Revoked: refused.
    listed = (await client.get("/keys/publishable", headers=org.headers)).json()["items"]
    assert listed[0]["prefix"] == key[:15] and "key" not in listed[0]
    assert (await client.delete(f"/keys/publishable/{listed[0]['id']}", headers=org.headers)).status_code == 200
    assert (await client.post("/token", json=token_body(org.org_id), headers=ok)).status_code == 401


async def test_token_rate_limited(db_pool: asyncpg.Pool, database_url: str) -> None:
    app = create_app(make_settings(database_url=database_url, rate_limit_token="3/minute"), pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        org = await register(client)
        await put_solution(client, org)
        statuses = [
            (await client.post("/token", json=token_body(org.org_id), headers=org.headers)).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        r = await client.post("/token", json=token_body(org.org_id), headers=org.headers)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


async def _org_with_two_devices(app: FastAPI) -> tuple[Org, dict[str, str], dict[str, str]]:
    async with from_address(app, "10.0.0.1") as c:
        org = await register(c)
        await put_solution(c, org)
        a = await device_for_org(c, org)
        b = await device_for_org(c, org)
    return org, {"X-API-Key": a["api_key"]}, {"X-API-Key": b["api_key"]}


async def test_token_limited_per_source_address(db_pool: asyncpg.Pool, database_url: str) -> None:
    """Two device keys behind one address share that address's budget."""
    app = create_app(make_settings(database_url=database_url, rate_limit_token="3/hour"), pool=db_pool)
    org, key_a, key_b = await _org_with_two_devices(app)
    body = token_body(org.org_id)
    async with from_address(app, "198.51.100.20") as c:
        statuses = [(await c.post("/token", json=body, headers=h)).status_code for h in (key_a, key_a, key_b)]
        assert statuses == [200, 200, 200]
        r = await c.post("/token", json=body, headers=key_b)  # key B's first refusal: it minted only once
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 3600
    async with from_address(app, "198.51.100.21") as c:
        # Key A has budget left (2 of 3): from another address it mints again.
        assert (await c.post("/token", json=body, headers=key_a)).status_code == 200


async def test_token_limited_per_key(db_pool: asyncpg.Pool, database_url: str) -> None:
    """One device key spread over two addresses hits the per-key limit."""
    app = create_app(make_settings(database_url=database_url, rate_limit_token="3/hour"), pool=db_pool)
    org, key_a, key_b = await _org_with_two_devices(app)
    body = token_body(org.org_id)
    async with from_address(app, "198.51.100.30") as c:
        assert [(await c.post("/token", json=body, headers=key_a)).status_code for _ in range(3)] == [200] * 3
    async with from_address(app, "198.51.100.31") as c:
        r = await c.post("/token", json=body, headers=key_a)  # this address's first request
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 3600
        # The address itself is not throttled: another key mints from it.
        assert (await c.post("/token", json=body, headers=key_b)).status_code == 200


async def test_cors_by_regex(db_pool: asyncpg.Pool, database_url: str) -> None:
    settings = make_settings(database_url=database_url, cors_origin_regex=r"^https:\/\/.*\.aivoice\.com\.br$")
    app = create_app(settings, pool=db_pool)
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-api-key"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.options("/token", headers={**preflight, "Origin": "https://helper.aivoice.com.br"})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://helper.aivoice.com.br"
        r = await client.options("/token", headers={**preflight, "Origin": "https://evil.com"})
        assert "access-control-allow-origin" not in r.headers


async def test_minted_room_stamps_session_org(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await register(client, "A")
    b = await register(client, "B")
    await put_solution(client, a)
    room = (await client.post("/token", json=token_body(a.org_id), headers=a.headers)).json()["room"]
    for ev in (
        event_body("room_started", room_sid="RM_a", room_name=room, created_at=1000),
        event_body(
            "participant_joined",
            room_sid="RM_a",
            room_name=room,
            created_at=1001,
            participant={"sid": "PA_1", "identity": room},
        ),
        event_body("room_started", room_sid="RM_free", room_name="unminted", created_at=1000),
    ):
        r = await client.post(
            "/livekit/webhook", content=ev, headers={"Authorization": sign(ev, TEST_LK_KEY, TEST_LK_SECRET)}
        )
        assert r.status_code == 200, r.text
    async with db_pool.acquire() as conn:
        orgs = {r["meeting_id"]: r["org_id"] for r in await conn.fetch("SELECT meeting_id, org_id::text FROM sessions")}
        part_org = await conn.fetchval("SELECT org_id::text FROM session_participants")
    assert orgs == {"RM_a": a.org_id, "RM_free": None} and part_org == a.org_id
    assert [s["meetingId"] for s in (await client.get("/sessions", headers=a.headers)).json()["items"]] == ["RM_a"]
    assert (await client.get("/sessions", headers=b.headers)).json()["items"] == []
    assert (await client.get("/sessions/RM_a", headers=b.headers)).status_code == 404
    assert (await client.get("/sessions/RM_free", headers=a.headers)).status_code == 404
    detail = (await client.get("/sessions/RM_a", headers=a.headers)).json()
    assert detail["participants"][0]["identity"] == room
    # The platform admin sees unowned sessions by default, an organization's with ?orgId=.
    admin = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
    assert [s["meetingId"] for s in (await client.get("/sessions", headers=admin)).json()["items"]] == ["RM_free"]
    scoped = await client.get("/sessions", params={"orgId": a.org_id}, headers=admin)
    assert [s["meetingId"] for s in scoped.json()["items"]] == ["RM_a"]
    # A tenant's ?orgId= is ignored: it always reads its own organization.
    crossed = await client.get("/sessions", params={"orgId": a.org_id}, headers=b.headers)
    assert crossed.json()["items"] == []


def test_fast_mint_equals_livekit_access_token() -> None:
    """`mint` writes its claims by hand for speed: they must be exactly AccessToken's."""
    settings = make_settings(livekit_api_key=TEST_LK_KEY, livekit_api_secret=TEST_LK_SECRET)
    org = uuid.uuid4()
    for principal in (
        Principal(kind="device", org_id=org, subject="bk_x", device_id=uuid.uuid4()),
        Principal(kind="publishable", org_id=org, subject="pk_x"),
    ):
        body = TokenBody(solution="AiHelper", clientId=str(org), userId="Daniel")
        room = f"AiHelper-{org}-Daniel"
        metadata, attributes = participant_fields(principal, "Daniel", "AiHelper")
        dispatch = json.dumps({"profile": "meeting", "org_id": str(org), "solution": "AiHelper"})
        reference = (
            api.AccessToken(TEST_LK_KEY, TEST_LK_SECRET)
            .with_identity(room)
            .with_name("Daniel")
            .with_grants(
                api.VideoGrants(
                    room_join=True,
                    room=room,
                    can_publish=True,
                    can_subscribe=True,
                    can_publish_data=True,
                    can_update_own_metadata=False,
                )
            )
            .with_ttl(timedelta(seconds=settings.livekit.token_ttl))
            .with_metadata(json.dumps(metadata, separators=(",", ":")))
            .with_attributes(attributes)
            .with_room_config(
                api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name="escuta", metadata=dispatch)])
            )
            .to_jwt()
        )
        ours = mint(settings, principal, body, room, "meeting")
        a, b = (jwt.decode(t, TEST_LK_SECRET, algorithms=["HS256"], issuer=TEST_LK_KEY) for t in (ours, reference))
        assert abs(a.pop("exp") - b.pop("exp")) <= 1 and abs(a.pop("nbf") - b.pop("nbf")) <= 1
        assert a == b


async def test_failed_key_flood_throttled(db_pool: asyncpg.Pool, database_url: str) -> None:
    app = create_app(make_settings(database_url=database_url, rate_limit_token="3/minute"), pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        statuses = []
        for i in range(5):
            fake = f"bk_{i:012x}" + "0" * 48
            r = await client.post("/token", json=token_body(str(uuid.uuid4())), headers={"X-API-Key": fake})
            statuses.append(r.status_code)
        assert statuses == [401, 401, 401, 429, 429]
        assert int(r.headers["retry-after"]) >= 1


async def test_cors_default_is_local_dev_only(client: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    for origin, allowed in (
        ("http://localhost:5173", True),
        ("http://127.0.0.1:3000", True),
        ("https://helper.aivoice.com.br", False),
        ("http://localhost.evil.com", False),
    ):
        r = await client.options("/token", headers={**preflight, "Origin": origin})
        assert (r.headers.get("access-control-allow-origin") == origin) is allowed, origin


async def test_guesses_at_a_known_key_prefix_are_throttled(db_pool: asyncpg.Pool, database_url: str) -> None:
    """A wrong secret after a real key's prefix is counted like an unknown key, even once the key is cached."""
    app = create_app(make_settings(database_url=database_url, rate_limit_token="3/hour"), pool=db_pool)
    org, key_a, _ = await _org_with_two_devices(app)
    real = key_a["X-API-Key"]
    async with from_address(app, "198.51.100.40") as c:
        assert (await c.post("/token", json=token_body(org.org_id), headers=key_a)).status_code == 200  # cached
        wrong = {"X-API-Key": real[:-4] + ("0000" if not real.endswith("0000") else "1111")}
        statuses = [(await c.post("/token", json=token_body(org.org_id), headers=wrong)).status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]


async def test_a_valid_cached_key_is_not_refused_for_its_sources_failures(
    db_pool: asyncpg.Pool, database_url: str
) -> None:
    """One misconfigured device behind a shop's address does not lock out the shop's working devices."""
    app = create_app(make_settings(database_url=database_url, rate_limit_token="3/hour"), pool=db_pool)
    org, key_a, _ = await _org_with_two_devices(app)
    # The key cache runs only while its LISTEN connection is up: the app's lifespan starts it.
    async with app.router.lifespan_context(app), from_address(app, "198.51.100.50") as c:
        await credential_cache(app.state).wait_ready()
        assert (await c.post("/token", json=token_body(org.org_id), headers=key_a)).status_code == 200
        for i in range(4):  # the broken device: unknown keys until its address is throttled
            fake = {"X-API-Key": f"bk_{i:012x}" + "1" * 48}
            await c.post("/token", json=token_body(org.org_id), headers=fake)
        fake = {"X-API-Key": "bk_" + "2" * 60}
        assert (await c.post("/token", json=token_body(org.org_id), headers=fake)).status_code == 429
        r = await c.post("/token", json=token_body(org.org_id, user="Bia"), headers=key_a)  # cached and valid
        assert r.status_code == 200, r.text
