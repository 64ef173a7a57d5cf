"""Twitch Helix `GET /helix/clips` with an app access token (client-credentials grant).

Token: requested from the OAuth endpoint, reused until shortly before `expires_in`, and requested again
when Helix answers 401 (Twitch revokes app tokens at will). Rate limits: Helix reports its token bucket
in `Ratelimit-Limit`/`Ratelimit-Remaining`/`Ratelimit-Reset` (epoch seconds); when the bucket is empty
we wait for the reset instead of collecting a 429, and a 429 that happens anyway is waited out the
same way. Secrets (client secret, access token) never appear in logs or exception messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from core.clips.source import ClipRecord, ClipSource, ClipSourceError, ClipWindow
from core.log_events import log_event
from core.settings import Settings

log = logging.getLogger("escuta.clips.twitch")

PAGE_SIZE = 100  # Helix maximum for `first`
# Ask for a new token this long before Twitch says the current one expires.
TOKEN_EXPIRY_MARGIN_SECONDS = 60.0


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def clip_from_helix(item: dict[str, Any]) -> ClipRecord:
    return ClipRecord(
        clip_id=str(item["id"]),
        broadcaster_id=str(item["broadcaster_id"]),
        created_at=parse_time(str(item["created_at"])),
        view_count=int(item.get("view_count") or 0),
        title=str(item.get("title") or ""),
        duration=float(item.get("duration") or 0.0),
        video_id=str(item["video_id"]) if item.get("video_id") else None,
        url=item.get("url") or None,
        thumbnail_url=item.get("thumbnail_url") or None,
        game_id=str(item["game_id"]) if item.get("game_id") else None,
    )


class TwitchClipSource(ClipSource):
    """Clips of Twitch broadcasters, for one Twitch application (client id + secret)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base_url: str = "https://api.twitch.tv/helix",
        id_base_url: str = "https://id.twitch.tv/oauth2",
        timeout: float = 10.0,
        max_retries: int = 5,
        max_rate_limit_wait: float = 60.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise ClipSourceError("Twitch client id and client secret are both required")
        self.client_id = client_id
        self._secret = client_secret
        self._api = api_base_url.rstrip("/")
        self._id = id_base_url.rstrip("/")
        self._max_retries = max_retries
        self._max_wait = max_rate_limit_wait
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._own_http = http is None
        self._token: str | None = None
        self._token_expires = 0.0  # time.monotonic() deadline
        self._token_lock = asyncio.Lock()
        # Shared by every request of this client id: Helix keeps one bucket per client id.
        self._bucket_empty_until = 0.0  # time.time() epoch seconds
        self.requests = 0
        self.token_requests = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, client_id: str, client_secret: str) -> TwitchClipSource:
        return cls(
            client_id=client_id,
            client_secret=client_secret,
            api_base_url=settings.clips.twitch.api_base_url,
            id_base_url=settings.clips.twitch.id_base_url,
            timeout=settings.clips.twitch.timeout_seconds,
            max_retries=settings.clips.twitch.max_retries,
            max_rate_limit_wait=settings.clips.twitch.max_rate_limit_wait_seconds,
        )

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def _access_token(self, *, stale: str | None = None) -> str:
        async with self._token_lock:
            # Another request may have refreshed it while we waited for the lock.
            if self._token and self._token != stale and time.monotonic() < self._token_expires:
                return self._token
            self.token_requests += 1
            try:
                resp = await self._http.post(
                    f"{self._id}/token",
                    data={
                        "client_id": self.client_id,
                        "client_secret": self._secret,
                        "grant_type": "client_credentials",
                    },
                )
            except httpx.HTTPError as exc:
                raise ClipSourceError(f"Twitch token endpoint unreachable: {type(exc).__name__}") from None
            if resp.status_code != 200:
                raise ClipSourceError(f"Twitch refused the app credentials (HTTP {resp.status_code})")
            body = resp.json()
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 3600)
            self._token_expires = time.monotonic() + max(lifetime - TOKEN_EXPIRY_MARGIN_SECONDS, lifetime / 2)
            log_event(log, logging.INFO, "twitch_token_issued", client_id=self.client_id, expires_in=lifetime)
            return self._token

    def _note_rate_limit(self, resp: httpx.Response) -> None:
        remaining = resp.headers.get("Ratelimit-Remaining")
        reset = resp.headers.get("Ratelimit-Reset")
        if remaining is None or reset is None:
            return
        try:
            if int(remaining) <= 0:
                self._bucket_empty_until = float(reset)
        except ValueError:
            return

    async def _wait_for_bucket(self) -> None:
        wait = self._bucket_empty_until - time.time()
        if wait > 0:
            wait = min(wait, self._max_wait)
            log_event(log, logging.INFO, "twitch_rate_limit_wait", client_id=self.client_id, seconds=round(wait, 2))
            await asyncio.sleep(wait)

    async def _get(self, path: str, params: list[tuple[str, str | int | float | bool | None]]) -> dict[str, Any]:
        token = await self._access_token()
        refreshed = False
        attempt = 0
        while True:
            await self._wait_for_bucket()
            self.requests += 1
            try:
                resp = await self._http.get(
                    f"{self._api}{path}",
                    params=params,
                    headers={"Authorization": f"Bearer {token}", "Client-Id": self.client_id},
                )
            except httpx.HTTPError as exc:
                attempt += 1
                if attempt > self._max_retries:
                    raise ClipSourceError(f"Twitch unreachable: {type(exc).__name__}") from None
                await asyncio.sleep(min(2.0**attempt * 0.1, self._max_wait))
                continue
            self._note_rate_limit(resp)
            if resp.status_code == 200:
                body: dict[str, Any] = resp.json()
                return body
            if resp.status_code == 401 and not refreshed:
                # Expired or revoked app token: one new token, one retry.
                refreshed = True
                log_event(log, logging.INFO, "twitch_token_rejected", client_id=self.client_id)
                token = await self._access_token(stale=token)
                continue
            attempt += 1
            if resp.status_code == 429 and attempt <= self._max_retries:
                if self._bucket_empty_until <= time.time():
                    self._bucket_empty_until = time.time() + 1.0  # no reset header: a short pause
                continue
            if resp.status_code >= 500 and attempt <= self._max_retries:
                await asyncio.sleep(min(2.0**attempt * 0.1, self._max_wait))
                continue
            raise ClipSourceError(f"Twitch answered HTTP {resp.status_code} to {path}")

    async def _pages(
        self, broadcaster_id: str, started_at: datetime, ended_at: datetime
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The pages of one query, following the cursor until Helix gives none (or an empty page)."""
        cursor: str | None = None
        while True:
            params: list[tuple[str, str | int | float | bool | None]] = [
                ("broadcaster_id", broadcaster_id),
                ("started_at", rfc3339(started_at)),
                # Always sent: without it Helix reads one week from `started_at`, whatever we wanted.
                ("ended_at", rfc3339(ended_at)),
                ("first", str(PAGE_SIZE)),
            ]
            if cursor:
                params.append(("after", cursor))
            body = await self._get("/clips", params)
            data: list[dict[str, Any]] = body.get("data") or []
            yield data
            cursor = (body.get("pagination") or {}).get("cursor")
            if not cursor or not data:
                return

    async def clips(self, broadcaster_id: str, started_at: datetime, ended_at: datetime) -> AsyncIterator[ClipRecord]:
        async for page in self._pages(broadcaster_id, started_at, ended_at):
            for item in page:
                yield clip_from_helix(item)

    async def window(self, broadcaster_id: str, started_at: datetime, ended_at: datetime) -> ClipWindow:
        """One query's clips. Helix stops paginating at about 1,000 results (most viewed first) with no
        error and no cursor, so the only sign of a cut is how the sequence ends: a complete one ends on a
        short page, and one whose last page with clips was full may have been cut (or hit an exact
        multiple of the page size, which costs one needless split)."""
        clips: list[ClipRecord] = []
        last_full = False
        async for page in self._pages(broadcaster_id, started_at, ended_at):
            if page:
                clips.extend(clip_from_helix(item) for item in page)
                last_full = len(page) >= PAGE_SIZE
        return ClipWindow(clips, complete=not last_full)
