"""The Helix client against the stub: pagination, 429s, expired tokens, rate-limit headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.clips.source import ClipRecord, ClipSourceError
from jobs.clips.twitch import TwitchClipSource
from tests.clips.conftest import STUB_CLIENT_ID, STUB_CLIENT_SECRET
from tests.clips.twitch_stub import TwitchStub

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def source(twitch: TwitchStub) -> AsyncIterator[TwitchClipSource]:
    src = TwitchClipSource(
        client_id=STUB_CLIENT_ID,
        client_secret=STUB_CLIENT_SECRET,
        api_base_url=twitch.api_base_url,
        id_base_url=twitch.id_base_url,
        max_rate_limit_wait=5.0,
    )
    yield src
    await src.aclose()


async def _all(src: TwitchClipSource, broadcaster: str) -> list[ClipRecord]:
    return [c async for c in src.clips(broadcaster, T0 - timedelta(hours=1), T0 + timedelta(days=1))]


async def test_pages_through_every_clip(twitch: TwitchStub, source: TwitchClipSource) -> None:
    for i in range(250):
        twitch.add_clip("100", f"clip{i:03d}", T0 + timedelta(seconds=i), views=i)
    twitch.add_clip("100", "too-old", T0 - timedelta(days=2))
    twitch.add_clip("200", "other-broadcaster", T0)

    clips = await _all(source, "100")

    assert sorted(c.clip_id for c in clips) == [f"clip{i:03d}" for i in range(250)]
    assert twitch.clip_requests["100"] == 3  # 100 + 100 + 50, the last page without a cursor
    assert twitch.token_requests == 1
    first = next(c for c in clips if c.clip_id == "clip007")
    assert first.created_at == T0 + timedelta(seconds=7) and first.view_count == 7 and first.video_id is None


async def test_survives_a_429(twitch: TwitchStub, source: TwitchClipSource) -> None:
    for i in range(150):
        twitch.add_clip("100", f"c{i}", T0 + timedelta(seconds=i))
    twitch.force_429 = 1

    clips = await _all(source, "100")

    assert len(clips) == 150
    assert twitch.status_counts[429] == 1


async def test_expired_token_is_replaced(twitch: TwitchStub, source: TwitchClipSource) -> None:
    twitch.add_clip("100", "a", T0)
    assert len(await _all(source, "100")) == 1
    twitch.revoke_tokens()  # what Twitch does when a token expires or is revoked

    assert [c.clip_id for c in await _all(source, "100")] == ["a"]
    assert twitch.token_requests == 2
    assert twitch.status_counts[401] == 1


async def test_token_is_renewed_before_it_expires(twitch: TwitchStub, source: TwitchClipSource) -> None:
    # A 3 s token: the client renews it after half its life (60 s before expiry for real tokens), and the
    # stub rejects it after 3 s, so a client that waited for the 401 would show one.
    twitch.token_lifetime = 3
    twitch.add_clip("100", "a", T0)
    assert len(await _all(source, "100")) == 1
    assert len(await _all(source, "100")) == 1
    assert twitch.token_requests == 1, "a valid token is reused"

    await asyncio.sleep(1.6)  # past the client's renewal point, well before the stub's expiry
    assert len(await _all(source, "100")) == 1

    assert twitch.token_requests == 2
    assert twitch.status_counts[401] == 0, "renewed ahead of expiry, not after a rejected request"


async def test_empty_bucket_is_waited_for_instead_of_hitting_429(twitch: TwitchStub, source: TwitchClipSource) -> None:
    twitch.bucket_limit = 2
    twitch.bucket_window = 1.0
    for i in range(500):
        twitch.add_clip("100", f"c{i}", T0 + timedelta(seconds=i))

    assert len(await _all(source, "100")) == 500

    assert twitch.status_counts[200] == 5
    assert twitch.status_counts[429] == 0


async def test_bad_credentials_fail_without_leaking_the_secret(twitch: TwitchStub) -> None:
    src = TwitchClipSource(
        client_id=STUB_CLIENT_ID,
        client_secret="wrong-secret-value",
        api_base_url=twitch.api_base_url,
        id_base_url=twitch.id_base_url,
    )
    with pytest.raises(ClipSourceError) as info:
        await _all(src, "100")
    await src.aclose()
    assert "wrong-secret-value" not in str(info.value)


async def test_stub_checks_both_headers(twitch: TwitchStub, source: TwitchClipSource) -> None:
    token = await source._access_token()
    url = f"{twitch.api_base_url}/clips?broadcaster_id=100"
    async with httpx.AsyncClient() as http:
        no_client = await http.get(url, headers={"Authorization": f"Bearer {token}"})
        no_token = await http.get(url, headers={"Client-Id": STUB_CLIENT_ID})
        other_client = await http.get(url, headers={"Authorization": f"Bearer {token}", "Client-Id": "other"})
        both = await http.get(url, headers={"Authorization": f"Bearer {token}", "Client-Id": STUB_CLIENT_ID})
    assert [r.status_code for r in (no_client, no_token, other_client, both)] == [401, 401, 401, 200]
    assert both.json() == {"data": [], "pagination": {}}
    assert all(h in both.headers for h in ("Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"))
