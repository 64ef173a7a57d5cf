"""Webhooks, signed the way livekit-server signs them.

Body: protojson of `WebhookEvent` (camelCase, int64 as strings), Content-Type application/webhook+json.
Authorization: a bare HS256 JWT (no "Bearer ") issued by the API key, whose `sha256` claim is the
base64 SHA-256 of the exact body bytes, valid for 5 minutes. One queue per URL keeps each receiver's
events in the order they happened.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import hashlib
import logging
import time

import aiohttp
from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol import models, webhook

from .ids import new_id
from .rooms import Participant, Room, RoomObserver

log = logging.getLogger("livekit_sim.webhooks")


def sign_body(body: bytes, api_key: str, api_secret: str) -> str:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return api.AccessToken(api_key, api_secret).with_ttl(datetime.timedelta(minutes=5)).with_sha256(digest).to_jwt()


class WebhookSender(RoomObserver):
    def __init__(self, api_key: str, api_secret: str) -> None:
        self._key = api_key
        self._secret = api_secret
        self._queues: dict[str, asyncio.Queue[bytes]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def urls(self) -> list[str]:
        return list(self._queues)

    def set_urls(self, urls: list[str]) -> None:
        for url in list(self._queues):
            if url not in urls:
                self._tasks.pop(url).cancel()
                del self._queues[url]
        for url in urls:
            if url not in self._queues:
                self._queues[url] = asyncio.Queue()
                self._tasks[url] = asyncio.create_task(self._deliver(url, self._queues[url]))

    def emit(
        self,
        event: str,
        room: Room,
        *,
        participant: Participant | None = None,
        track: models.TrackInfo | None = None,
    ) -> None:
        if not self._queues:
            return
        ev = webhook.WebhookEvent(event=event, id=new_id("EV"), created_at=int(time.time()), room=room.info())
        if participant is not None:
            ev.participant.CopyFrom(participant.info())
        if track is not None:
            ev.track.CopyFrom(track)
        body = MessageToJson(ev, indent=None).encode()
        for queue in self._queues.values():
            queue.put_nowait(body)

    async def _deliver(self, url: str, queue: asyncio.Queue[bytes]) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            while True:
                body = await queue.get()
                headers = {
                    "Content-Type": "application/webhook+json",
                    "Authorization": sign_body(body, self._key, self._secret),
                }
                # LiveKit retries failed deliveries a few times; so do we, briefly.
                for attempt in range(3):
                    with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                        async with http.post(url, data=body, headers=headers) as resp:
                            if resp.status < 500:
                                if resp.status >= 400:
                                    log.warning("webhook %s answered %s", url, resp.status)
                                break
                    await asyncio.sleep(0.2 * (attempt + 1))
                else:
                    log.warning("webhook %s undeliverable", url)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()

    # --- RoomObserver -------------------------------------------------------------------------------

    def room_started(self, room: Room) -> None:
        self.emit("room_started", room)

    def room_finished(self, room: Room) -> None:
        self.emit("room_finished", room)

    def participant_joined(self, room: Room, p: Participant) -> None:
        self.emit("participant_joined", room, participant=p)

    def participant_left(self, room: Room, p: Participant) -> None:
        self.emit("participant_left", room, participant=p)

    def track_published(self, room: Room, p: Participant, track: models.TrackInfo) -> None:
        self.emit("track_published", room, participant=p, track=track)

    def track_unpublished(self, room: Room, p: Participant, track: models.TrackInfo) -> None:
        self.emit("track_unpublished", room, participant=p, track=track)
