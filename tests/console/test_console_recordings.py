"""A session's recordings through the API and the console's session page: WAV files written by the
recording module itself are listed and downloaded; traversal attempts, symlinks out of the directory and
another organization's meeting answer 404."""

from __future__ import annotations

import io
import os
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from agents.coach.recording import SegmentWriter
from agents.coach.recording import safe_component as writer_safe_component
from control_api.app import create_app
from control_api.console.session import ACCESS_COOKIE
from control_api.services.recordings import safe_component
from core.settings import Settings
from core.settings.accounts import RateLimitSettings
from tests.accounts.helpers import Org, put_solution, register, token_body
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET, make_settings
from tests.webhook_signing import event_body, sign


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("storage")


@pytest.fixture(scope="module")
def settings(database_url: str, storage: Path) -> Settings:
    return make_settings(
        database_url=database_url, recordings_dir=storage, rate_limit=RateLimitSettings(login="1000/minute")
    )


@pytest.fixture
def db_pool(_session_pool: asyncpg.Pool) -> asyncpg.Pool:
    return _session_pool


@pytest.fixture(scope="module")
def app(settings: Settings, _session_pool: asyncpg.Pool) -> FastAPI:
    return create_app(settings, pool=_session_pool)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def _meeting(client: httpx.AsyncClient, org: Org, sid: str) -> str:
    await put_solution(client, org)
    room = (await client.post("/token", json=token_body(org.org_id), headers=org.headers)).json()["room"]
    body = event_body("room_started", room_sid=sid, room_name=room)
    r = await client.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )
    assert r.status_code == 200, r.text
    return str(room)


def _record(storage: Path, meeting_id: str, room: str, identity: str, seconds: float) -> list[Path]:
    rng = np.random.default_rng(7)
    pcm = (rng.standard_normal(round(seconds * 16_000)) * 3000).astype(np.int16)
    w = SegmentWriter(
        storage, meeting_id=meeting_id, room=room, participant=identity, track="TR_AMkd9x", group_seconds=1.0
    )
    w.push(pcm, at=datetime(2025, 3, 14, 9, 26, 53, 589_000, tzinfo=UTC))
    w.close()
    return [s.path for s in w.segments]


def test_the_api_finds_the_directory_the_writer_uses() -> None:
    for value in ("RM_abc", "../../etc", "name:sala 1/2", "..", "", "a" * 300, "ção"):
        assert safe_component(value) == writer_safe_component(value)


async def test_list_and_download_a_real_recording(client: httpx.AsyncClient, storage: Path) -> None:
    org = await register(client)
    sid = f"RM_rec_{org.org_id[:8]}"
    room = await _meeting(client, org, sid)
    written = _record(storage, sid, room, "ana.silva", 1.5)
    assert len(written) == 2
    r = await client.get(f"/sessions/{sid}/recordings", headers=org.headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["name"] for i in items] == [p.name for p in written]
    assert items[0]["participantIdentity"] == "ana.silva"
    assert items[0]["startedAt"].startswith("2025-03-14T09:26:53.589")
    assert [i["durationS"] for i in items] == [1.0, 0.5]
    assert items[0]["size"] == written[0].stat().st_size
    wav = await client.get(items[1]["url"], headers=org.headers)
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    assert wav.content == written[1].read_bytes()
    with wave.open(io.BytesIO(wav.content)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getnframes()) == (16_000, 1, 8_000)

    # The session page links each file (with the signed-in cookie, the API answers the link).
    client.cookies.set(ACCESS_COOKIE, org.access)
    page = await client.get(f"/console/sessions/{sid}")
    assert page.status_code == 200, page.text
    assert f'href="/sessions/{sid}/recordings/{written[0].name}"' in page.text


async def test_traversal_and_links_out_are_refused(client: httpx.AsyncClient, storage: Path, tmp_path: Path) -> None:
    org = await register(client)
    sid = f"RM_trav_{org.org_id[:8]}"
    room = await _meeting(client, org, sid)
    [good] = _record(storage, sid, room, "ana", 0.5)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF-not-yours")
    link = good.with_name("20250314T092653000Z_x_evil_TR_a.wav")
    os.symlink(secret, link)
    (good.parent / ".20250314T092653000Z_x_a.wav.tmp").write_bytes(b"partial")
    other = f"RM_other_{org.org_id[:8]}"
    _record(storage, other, room, "bob", 0.5)  # a meeting that is not in the database at all

    listed = (await client.get(f"/sessions/{sid}/recordings", headers=org.headers)).json()["items"]
    assert [i["name"] for i in listed] == [good.name]  # no symlink, no temporary
    attempts = [
        link.name,
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "%2E%2E",
        f"..%2F{safe_component(other)}%2F{good.name}",
        f"{good.name}%2F..%2F..%2F{good.name}",
        "20250314T092653589Z_..wav",
    ]
    for name in attempts:
        r = await client.get(f"/sessions/{sid}/recordings/{name}", headers=org.headers)
        assert r.status_code == 404, (name, r.status_code)
        assert b"RIFF-not-yours" not in r.content
    r = await client.get(f"/sessions/{other}/recordings", headers=org.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert (await client.get(f"/sessions/{sid}/recordings/{good.name}", headers=org.headers)).status_code == 200


async def test_another_organizations_meeting_is_404(client: httpx.AsyncClient, storage: Path) -> None:
    owner, intruder = await register(client), await register(client)
    sid = f"RM_iso_{owner.org_id[:8]}"
    room = await _meeting(client, owner, sid)
    [path] = _record(storage, sid, room, "ana", 0.5)
    for url in (f"/sessions/{sid}/recordings", f"/sessions/{sid}/recordings/{path.name}"):
        r = await client.get(url, headers=intruder.headers)
        assert r.status_code == 404, (url, r.text)
        assert path.name not in r.text
        assert (await client.get(url)).status_code == 401
        assert (await client.get(url, headers=owner.headers)).status_code == 200
