"""ESCUTA_LIVEKIT_PUBLIC_URL (issue 21): LiveAvatar joins rooms from its own cloud, so it is handed the
public LiveKit URL; unset, loopback, private or site-local, there is no avatar: the agent says so in one
log line and tells the frontend, and `/new` (and `/token` for an avatar solution) answer 503 first."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import httpx
import jwt
import pytest
from livekit.agents import JobContext

from agents.avatar.conversation import REASON_ATTRIBUTE, STATUS_ATTRIBUTE
from agents.avatar.profile import AvatarProfile
from agents.profiles import ProfileContext
from agents.profiles.base import SessionInfo
from agents.room import RoomPublisher
from control_api.app import create_app
from core.security.public_url import public_url_problem
from core.settings import Settings
from tests.accounts.helpers import put_solution, register, token_body
from tests.avatar.test_prepare import FakeJob, configured
from tests.conftest import TEST_LK_PUBLIC_URL, TEST_LK_SECRET, make_settings
from tests.liveavatar_stub import LiveAvatarStub

NOT_PUBLIC = [
    (None, "unset"),
    ("", "unset"),
    ("ws://127.0.0.1:7880", "not_global"),  # LIVEKIT_URL's default
    ("ws://livekit:7880", "site_local_name"),  # docker-compose's service name
    ("wss://10.0.0.5", "not_global"),
    ("wss://172.18.0.2:7880", "not_global"),  # a docker bridge address
    ("wss://[::1]:7880", "not_global"),
    ("wss://[fd00::5]", "not_global"),
    ("wss://100.64.0.7", "not_global"),  # shared address space (carrier-grade NAT, tailnets)
    ("wss://169.254.1.1", "not_global"),
    ("ws://localhost:7880", "site_local_name"),
    ("wss://livekit.default.svc.cluster.local", "site_local_name"),
    ("wss://lk.corp.internal", "site_local_name"),
    ("ftp://lk.example.com", "invalid"),
    ("wss://lk.example.com:99999", "invalid"),
    ("lk.example.com", "invalid"),  # no scheme
]


async def nothing_resolves(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} needed no lookup")


@pytest.mark.parametrize(("url", "kind"), NOT_PUBLIC)
async def test_what_is_not_public_without_a_lookup(url: str | None, kind: str) -> None:
    problem = await public_url_problem(url, resolve=nothing_resolves)
    assert problem is not None and problem.kind == kind
    assert problem.summary() and (url is None or url == "" or "1.2.3.4" not in problem.summary())


async def test_names_are_judged_by_every_address_they_resolve_to() -> None:
    answers = {
        "lk.example.com": ["203.0.114.9", "2606:4700::6810:85e5"],  # global only
        "split.example.com": ["8.8.4.4", "10.1.2.3"],  # one private answer is enough to refuse
        "inside.example.com": ["172.18.0.2"],  # split-horizon: private as seen from here
    }
    asked: list[tuple[str, int]] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        if host not in answers:
            raise OSError("Name or service not known")
        return answers[host]

    assert await public_url_problem("wss://LK.example.com.", resolve=resolve) is None
    assert await public_url_problem("ws://lk.example.com:7880", resolve=resolve) is None
    assert asked == [("lk.example.com", 443), ("lk.example.com", 7880)]
    split = await public_url_problem("wss://split.example.com", resolve=resolve)
    assert split is not None and split.kind == "not_global" and "10.1.2.3" in split.detail
    inside = await public_url_problem("wss://inside.example.com", resolve=resolve)
    assert inside is not None and inside.kind == "not_global" and "private" in inside.detail
    typo = await public_url_problem("wss://lk.exmaple.com", resolve=resolve)
    assert typo is not None and typo.kind == "unresolvable"

    async def hangs(host: str, port: int) -> list[str]:
        await asyncio.sleep(60)
        return []

    slow = await public_url_problem("wss://lk.example.com", resolve=hangs, resolve_seconds=0.05)
    assert slow is not None and slow.kind == "unresolvable"
    assert await public_url_problem(TEST_LK_PUBLIC_URL, resolve=nothing_resolves) is None


@pytest.mark.parametrize("url", [None, "ws://127.0.0.1:7880", "ws://livekit:7880", "wss://10.213.0.2:7880"])
async def test_the_avatar_agent_refuses_with_one_log_line_and_tells_the_frontend(
    url: str | None,
    avatar_client: httpx.AsyncClient,
    avatar_settings: Settings,
    db_pool: asyncpg.Pool,
    liveavatar: LiveAvatarStub,
    admin_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An organization with everything an avatar needs: only the platform's public URL is wrong.
    org = await configured(avatar_client, "Lia", liveavatar=True)
    await avatar_client.post("/credits/grants", json={"orgId": org.org_id, "amount": "5"}, headers=admin_headers)
    settings = avatar_settings.replace(**{"stt_providers": ["local"], "livekit_public_url": url})
    job = FakeJob()
    info = SessionInfo("RM_public_url", "Lia-room", uuid.UUID(org.org_id), "avatar", datetime.now(UTC))
    profile = AvatarProfile()
    with caplog.at_level(logging.INFO, logger="escuta.avatar"):
        await profile.start(ProfileContext(info, settings, RoomPublisher(cast(Any, job.room)), db_pool))
    [line] = [r for r in caplog.records if r.name == "escuta.avatar"]
    assert line.levelno == logging.ERROR and "ESCUTA_LIVEKIT_PUBLIC_URL" in line.getMessage()
    assert "Lia-room" in line.getMessage() and "LiveAvatar" in line.getMessage()
    assert profile.prepared is None and profile.unavailable is not None
    assert profile.unavailable.code == "livekit_url_not_public"

    close = await profile.run_in_room(cast(JobContext, job), info, vad_model=None)
    await close()
    local = job.room.local_participant
    for _ in range(100):  # the visitor is told from a task
        if local.texts:
            break
        await asyncio.sleep(0.01)
    assert local.attributes == {STATUS_ATTRIBUTE: "unavailable", REASON_ATTRIBUTE: "livekit_url_not_public"}
    [(_, event, _)] = local.texts
    assert event["reason"] == "livekit_url_not_public" and "public LiveKit URL" in event["message"]
    assert liveavatar.sessions == {} and liveavatar.rejected_keys == []  # LiveAvatar was never called


@pytest.mark.parametrize("url", [None, "ws://127.0.0.1:7880", "ws://livekit:7880"])
async def test_new_and_avatar_tokens_answer_503_before_minting(
    url: str | None, db_pool: asyncpg.Pool, database_url: str, admin_headers: dict[str, str]
) -> None:
    settings = make_settings(database_url=database_url, livekit_public_url=url)
    app = create_app(settings, pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        org = await register(client, "Sem URL")
        await put_solution(client, org, "Lia", "avatar")
        await put_solution(client, org, "Meet", "transcription")
        await client.post("/credits/grants", json={"orgId": org.org_id, "amount": "10"}, headers=admin_headers)
        rooms_before = await db_pool.fetchval("SELECT count(*) FROM rooms")

        for r in (
            await client.get("/new", headers=org.headers),
            await client.post("/token", json=token_body(org.org_id, "Lia"), headers=org.headers),
        ):
            assert r.status_code == 503, r.text
            error = r.json()["error"]
            assert error["code"] == "livekit_url_not_public"
            assert "ESCUTA_LIVEKIT_PUBLIC_URL" in error["message"] and "LiveAvatar" in error["message"]
            assert "127.0.0.1" not in error["message"]  # the address goes to the log, not to frontends
            assert "token" not in r.json()
        assert await db_pool.fetchval("SELECT count(*) FROM rooms") == rooms_before  # nothing registered

        # Other solutions are not affected; their frontends get LIVEKIT_URL when no public URL is set.
        meet = await client.post("/token", json=token_body(org.org_id, "Meet"), headers=org.headers)
        assert meet.status_code == 200 and meet.json()["url"] == (url or settings.livekit.url)


async def test_new_and_token_hand_frontends_the_public_url(
    client: httpx.AsyncClient, settings: Settings, admin_headers: dict[str, str]
) -> None:
    assert settings.livekit.public_url == TEST_LK_PUBLIC_URL != settings.livekit.url
    org = await register(client, "Com URL")
    await put_solution(client, org, "Lia", "avatar")
    await put_solution(client, org, "Meet", "transcription")
    await client.post("/credits/grants", json={"orgId": org.org_id, "amount": "10"}, headers=admin_headers)
    # `/new` refuses an organization without its own LiveAvatar key before minting (seed 000).
    await client.put("/credentials/liveavatar", json={"secret": "la-key-0123456789"}, headers=org.headers)
    new = await client.get("/new", headers=org.headers)
    assert new.status_code == 200 and new.json()["url"] == TEST_LK_PUBLIC_URL
    claims = jwt.decode(new.json()["token"], TEST_LK_SECRET, algorithms=["HS256"])
    assert claims["video"]["room"] == new.json()["room"]
    for solution in ("Lia", "Meet"):
        r = await client.post("/token", json=token_body(org.org_id, solution), headers=org.headers)
        assert r.status_code == 200 and r.json()["url"] == TEST_LK_PUBLIC_URL
