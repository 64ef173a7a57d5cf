"""A Balto device on seed 001's `/ws`, bridged into its organization's counter room as a participant.

The bridge joins the room with the token `/token` would mint for the device (same room name, same
dispatch, so the counter agent is brought as usual) and publishes the device's decoded audio as a
microphone track. Recommendations the agent addresses to the device's identity come back on the
socket. The bridge outlives a socket by ``ESCUTA_COUNTER_WS_RESUME_GRACE_SECONDS``: a device that
reconnects in that window resumes the same participant in the same room, and suggestions made while it
was away are delivered on its return.

Pacing: the LiveKit audio source takes audio at real time. Decoded audio waits in a bounded buffer
(``ESCUTA_COUNTER_WS_MAX_BACKLOG_SECONDS``): it holds what arrives while the room connects, and a
client sending faster than real time overflows it (the socket then closes with 4029). When the backlog
is over a second (after a slow connect), quiet 10 ms frames are skipped until it is back under, so the
bridge catches up without cutting speech. When the device sends nothing for a moment (a pause, or a
socket gone within its grace period) silence is published, so the agent's voice detector still sees
the utterance end.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np
from livekit import rtc

from control_api.services.device_audio import OUT_RATE
from core.counter.wire import FEEDBACK_RPC_METHOD, RECOMMENDATION_TOPIC
from core.settings.counter import CounterSettings

log = logging.getLogger("escuta.api.ws")

FRAME_SAMPLES = OUT_RATE // 100  # 10 ms
FRAME_BYTES = FRAME_SAMPLES * 2
IDLE_FILL_SECONDS = 0.25  # no audio for this long: publish silence
CATCH_UP_SECONDS = 1.0  # backlog above this: skip quiet frames
QUIET_PEAK = 300  # |sample| below this (about -40 dBFS) in a whole 10 ms frame counts as quiet
MAX_PENDING_EVENTS = 100  # suggestions kept for a device that is away (oldest dropped first)
RETRY_SECONDS = 0.5

SendText = Callable[[str], Awaitable[None]]
CloseSocket = Callable[[int, str], Awaitable[None]]


class BridgeUnavailable(Exception):
    """The LiveKit room could not be joined within the connect timeout."""


@dataclass(frozen=True)
class BridgeTarget:
    """Where and as whom the device joins: what `/token` would give it."""

    url: str
    token: str
    room: str
    identity: str
    org_id: UUID
    device_id: UUID


@dataclass
class _Socket:
    send: SendText
    close: CloseSocket


class DeviceBridge:
    def __init__(self, target: BridgeTarget, settings: CounterSettings) -> None:
        self.target = target
        self.settings = settings
        self.room = rtc.Room()
        self.source = rtc.AudioSource(OUT_RATE, 1, queue_size_ms=200)
        self.connected = asyncio.Event()
        self.failed: str | None = None
        self.closed = False
        self.sessions = 0  # sockets attached so far (1 + reconnections)
        self._pcm = bytearray()
        self._data = asyncio.Event()
        self._pending: collections.deque[str] = collections.deque(maxlen=MAX_PENDING_EVENTS)
        self._socket: _Socket | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._grace: asyncio.TimerHandle | None = None
        self._on_gone: Callable[[DeviceBridge], None] | None = None
        self.delivered = 0

    # --- audio in ----------------------------------------------------------------------------------

    @property
    def backlog_seconds(self) -> float:
        return len(self._pcm) / 2 / OUT_RATE

    def push_pcm(self, pcm: bytes) -> None:
        """48 kHz mono s16le from the decoder (on the event loop)."""
        if self.closed:
            return
        self._pcm += pcm
        self._data.set()

    async def _pump(self) -> None:
        silence = bytes(FRAME_BYTES)
        while not self.closed:
            if len(self._pcm) >= FRAME_BYTES:
                chunk = bytes(self._pcm[:FRAME_BYTES])
                del self._pcm[:FRAME_BYTES]
                if self.backlog_seconds > CATCH_UP_SECONDS and _quiet(chunk):
                    continue
                await self.source.capture_frame(rtc.AudioFrame(chunk, OUT_RATE, 1, FRAME_SAMPLES))
                continue
            self._data.clear()
            try:
                await asyncio.wait_for(self._data.wait(), IDLE_FILL_SECONDS)
            except TimeoutError:
                for _ in range(10):  # 100 ms of silence, then look again
                    await self.source.capture_frame(rtc.AudioFrame(silence, OUT_RATE, 1, FRAME_SAMPLES))

    # --- the room ----------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Join and publish, retrying until the connect timeout; `BridgeUnavailable` after it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.ws_connect_timeout_seconds
        last: Exception | None = None
        while not self.closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self.room.connect(self.target.url, self.target.token), remaining)
                break
            except (TimeoutError, rtc.ConnectError, OSError) as exc:
                last = exc
                with contextlib.suppress(Exception):
                    await self.room.disconnect()
                self.room = rtc.Room()
                await asyncio.sleep(min(RETRY_SECONDS, max(0.0, deadline - loop.time())))
        if self.closed:
            return
        if not self.room.isconnected():
            self.failed = f"livekit unreachable ({type(last).__name__ if last else 'timeout'})"
            raise BridgeUnavailable(self.failed)
        self.room.register_text_stream_handler(RECOMMENDATION_TOPIC, self._on_text)
        track = rtc.LocalAudioTrack.create_audio_track("balto-ws", self.source)
        await self.room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        )
        self._spawn(self._pump())
        self.connected.set()
        log.info("device bridged: org=%s device=%s", self.target.org_id, self.target.device_id)

    def _on_text(self, reader: rtc.TextStreamReader, sender: str) -> None:
        self._spawn(self._read_event(reader))

    async def _read_event(self, reader: rtc.TextStreamReader) -> None:
        text = await reader.read_all()
        try:
            event = json.loads(text)
        except ValueError:
            return
        if isinstance(event, dict) and event.get("comando") == "recomendar":
            await self._deliver(text)

    async def _deliver(self, text: str) -> None:
        socket = self._socket
        if socket is None:
            self._pending.append(text)  # the device is away: delivered when it comes back
            return
        try:
            await socket.send(text)
            self.delivered += 1
        except Exception:
            self._pending.append(text)

    async def feedback(self, rec_id: str, verdict: Any) -> str:
        """The clerk's answer to a suggestion, by the counter agent's RPC (as a room device would)."""
        agent = next(
            (
                p.identity
                for p in self.room.remote_participants.values()
                if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
            ),
            None,
        )
        if agent is None:
            raise rtc.RpcError(1500, "no counter agent in the room")
        payload = json.dumps({"id": rec_id, "feedback": verdict})
        return await self.room.local_participant.perform_rpc(
            destination_identity=agent, method=FEEDBACK_RPC_METHOD, payload=payload, response_timeout=10.0
        )

    # --- sockets -----------------------------------------------------------------------------------

    async def attach(self, send: SendText, close: CloseSocket) -> None:
        """A socket of this device takes over: an older one is closed (4005), pending events are sent."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        old, self._socket = self._socket, _Socket(send, close)
        self.sessions += 1
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close(4005, "Conexao substituida")
        while self._pending and self._socket is not None:
            await self._deliver(self._pending.popleft())

    def detach(self, send: SendText, on_gone: Callable[[DeviceBridge], None]) -> None:
        """That socket ended: keep the participant for the grace period, then leave the room."""
        if self._socket is None or self._socket.send is not send:
            return  # already replaced by a newer socket
        self._socket = None
        self._on_gone = on_gone
        grace = self.settings.ws_resume_grace_seconds
        loop = asyncio.get_running_loop()
        self._grace = loop.call_later(grace, lambda: self._spawn(self.aclose()))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._grace is not None:
            self._grace.cancel()
        if self._on_gone is not None:
            self._on_gone(self)
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        with contextlib.suppress(Exception):
            await self.room.disconnect()
        with contextlib.suppress(Exception):
            await self.source.aclose()
        log.info("device bridge closed: org=%s device=%s", self.target.org_id, self.target.device_id)


def _quiet(chunk: bytes) -> bool:
    return int(np.abs(np.frombuffer(chunk, dtype=np.int16)).max(initial=0)) < QUIET_PEAK


class BridgeRegistry:
    """This API process's bridges by device: a reconnecting device finds its own (same room)."""

    def __init__(self) -> None:
        self._by_device: dict[UUID, DeviceBridge] = {}

    def get(self, device_id: UUID) -> DeviceBridge | None:
        bridge = self._by_device.get(device_id)
        return None if bridge is None or bridge.closed or bridge.failed else bridge

    def add(self, bridge: DeviceBridge) -> None:
        self._by_device[bridge.target.device_id] = bridge

    def forget(self, bridge: DeviceBridge) -> None:
        if self._by_device.get(bridge.target.device_id) is bridge:
            del self._by_device[bridge.target.device_id]

    async def aclose(self) -> None:
        for bridge in list(self._by_device.values()):
            await bridge.aclose()
        self._by_device.clear()
