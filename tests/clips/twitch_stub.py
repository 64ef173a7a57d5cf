"""A Twitch stub on 127.0.0.1 speaking the documented wire protocol (providers.md §7).

`POST /oauth2/token` (client credentials, form body) issues app tokens; `GET /helix/clips` checks both
`Authorization: Bearer` and `Client-Id` (which must match the token's client), pages with `after`
cursors (`"pagination": {}` on the last page), reports its token bucket in `Ratelimit-*` headers and
answers 429 when the bucket is empty. Tokens expire after `token_lifetime` seconds (401, as on Twitch).
Tests can force 429s, revoke tokens (401) and make one broadcaster's requests fail (500) on demand.

The time window reads as Helix documents it: the seconds of `started_at`/`ended_at` are ignored,
`started_at` alone means `ended_at = started_at + 1 week`, and `ended_at` without `started_at` is
ignored. Like Helix, one query (broadcaster and window) yields about 1,000 results at most: each query
draws its own cap from `result_cap` (900 to 1,000 by default), and its page sequence simply ends there,
with no cursor and no error, whether that last page is full or short. `max_pages` ends every page
sequence after that many pages the same way (a sequence that ends early). `truncated` counts the
queries that lost results to either, so a test can show the cap was really reached.
"""

from __future__ import annotations

import base64
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.local_http import serve


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _minute(value: str) -> datetime:
    """A query bound as Helix reads it: seconds ignored."""
    return _parse(value).replace(second=0, microsecond=0)


@dataclass
class TwitchStub:
    apps: dict[str, str] = field(default_factory=dict)  # client_id -> client_secret
    clips: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # broadcaster_id -> clips
    token_lifetime: int = 3600
    bucket_limit: int = 800
    bucket_window: float = 60.0
    force_429: int = 0  # answer this many clip requests with 429 regardless of the bucket
    failing: set[str] = field(default_factory=set)  # broadcasters whose clip requests answer 500
    result_cap: tuple[int, int] = (900, 1000)  # per query, a cap drawn in this range (both included)
    max_pages: int | None = None  # end every page sequence after this many pages
    seed: int = 21
    truncated: int = 0  # queries whose page sequence ended before their last result
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # token -> client_id
    token_expiry: dict[str, float] = field(default_factory=dict)  # token -> time.monotonic() deadline
    token_requests: int = 0
    clip_requests: Counter[str] = field(default_factory=Counter)  # broadcaster -> requests
    status_counts: Counter[int] = field(default_factory=Counter)
    rejected: list[str] = field(default_factory=list)
    _bucket_used: int = 0
    _bucket_reset: float = 0.0
    _runner: web.AppRunner | None = None
    _caps: dict[tuple[str, str, str], int] = field(default_factory=dict)  # query -> its cap
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)  # reproducible caps: a failing run fails again

    # --- test controls ------------------------------------------------------------------------------
    def add_clip(
        self, broadcaster_id: str, clip_id: str, created_at: datetime, *, views: int = 1, title: str = "clip"
    ) -> dict[str, Any]:
        clip = {
            "id": clip_id,
            "url": f"https://clips.twitch.tv/{clip_id}",
            "embed_url": f"https://clips.twitch.tv/embed?clip={clip_id}",
            "broadcaster_id": broadcaster_id,
            "broadcaster_name": f"b{broadcaster_id}",
            "creator_id": "1",
            "creator_name": "someone",
            "video_id": "",
            "game_id": "488191",
            "language": "en",
            "title": title,
            "view_count": views,
            "created_at": _ts(created_at),
            "thumbnail_url": f"https://clips-media-assets.twitch.tv/{clip_id}-preview-480x272.jpg",
            "duration": 30.0,
            "vod_offset": None,
            "is_featured": False,
        }
        self.clips.setdefault(broadcaster_id, []).append(clip)
        return clip

    def revoke_tokens(self) -> None:
        """Every issued token becomes invalid: the next Helix call answers 401."""
        self.tokens.clear()

    # --- server -------------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/oauth2/token", self._token)
        app.router.add_get("/helix/clips", self._clips)
        self._runner, port = await serve(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/helix"

    @property
    def id_base_url(self) -> str:
        return f"{self.url}/oauth2"

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests += 1
        client_id = str(form.get("client_id", ""))
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"status": 400, "message": "invalid grant type"}, status=400)
        if self.apps.get(client_id) != form.get("client_secret") or not client_id:
            return web.json_response({"status": 403, "message": "invalid client secret"}, status=403)
        token = secrets.token_hex(15)
        self.tokens[token] = client_id
        self.token_expiry[token] = time.monotonic() + self.token_lifetime
        return web.json_response({"access_token": token, "expires_in": self.token_lifetime, "token_type": "bearer"})

    def _unauthorized(self, why: str) -> web.Response:
        self.rejected.append(why)
        self.status_counts[401] += 1
        body = {"error": "Unauthorized", "status": 401, "message": why}
        return web.json_response(body, status=401)

    def _bucket_headers(self) -> dict[str, str]:
        now = time.time()
        if now >= self._bucket_reset:
            self._bucket_used = 0
            self._bucket_reset = now + self.bucket_window
        return {
            "Ratelimit-Limit": str(self.bucket_limit),
            "Ratelimit-Remaining": str(max(self.bucket_limit - self._bucket_used, 0)),
            "Ratelimit-Reset": str(int(self._bucket_reset) + 1),
        }

    async def _clips(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        client_id = request.headers.get("Client-Id", "")
        if not auth.startswith("Bearer "):
            return self._unauthorized("OAuth token is missing")
        token = auth.removeprefix("Bearer ")
        token_client = self.tokens.get(token)
        if token_client is None or time.monotonic() >= self.token_expiry.get(token, 0.0):
            return self._unauthorized("Invalid OAuth token")
        if not client_id:
            return self._unauthorized("Client ID is missing")
        if client_id != token_client:
            return self._unauthorized("Client ID and OAuth token do not match")

        headers = self._bucket_headers()
        if self.force_429 > 0 or self._bucket_used >= self.bucket_limit:
            if self.force_429 > 0:
                # A forced 429 (another consumer drained the bucket) refills in about a second.
                self.force_429 -= 1
                headers["Ratelimit-Reset"] = str(int(time.time()) + 1)
            headers["Ratelimit-Remaining"] = "0"
            self.status_counts[429] += 1
            body = {"error": "Too Many Requests", "status": 429, "message": "rate limit exceeded"}
            return web.json_response(body, status=429, headers=headers)
        self._bucket_used += 1
        headers["Ratelimit-Remaining"] = str(max(self.bucket_limit - self._bucket_used, 0))

        q = request.query
        broadcaster = q.get("broadcaster_id")
        if not broadcaster:
            body = {"error": "Bad Request", "status": 400, "message": "Missing required parameter"}
            return web.json_response(body, status=400)
        self.clip_requests[broadcaster] += 1
        if broadcaster in self.failing:
            self.status_counts[500] += 1
            body = {"error": "Internal Server Error", "status": 500, "message": ""}
            return web.json_response(body, status=500, headers=headers)
        first = min(max(int(q.get("first", "20")), 1), 100)
        items = sorted(self.clips.get(broadcaster, []), key=lambda c: (-c["view_count"], c["id"]))
        if "started_at" in q:
            lo = _minute(q["started_at"])
            hi = _minute(q["ended_at"]) if "ended_at" in q else lo + timedelta(weeks=1)
            items = [c for c in items if lo <= _parse(c["created_at"]) <= hi]
        query = (broadcaster, q.get("started_at", ""), q.get("ended_at", ""))
        if query not in self._caps:
            self._caps[query] = self._rng.randint(*self.result_cap)
        cap = self._caps[query]
        if self.max_pages is not None:
            cap = min(cap, self.max_pages * first)
        offset = int(base64.urlsafe_b64decode(q["after"]).decode()) if q.get("after") else 0
        page = items[offset : min(offset + first, cap)]
        pagination: dict[str, str] = {}
        if offset + first < min(len(items), cap):
            pagination["cursor"] = base64.urlsafe_b64encode(str(offset + first).encode()).decode()
        elif len(items) > cap and offset + first >= cap and offset < cap:
            self.truncated += 1  # the sequence ends here with results left: silently, as Helix's does
        self.status_counts[200] += 1
        return web.json_response({"data": page, "pagination": pagination}, headers=headers)
