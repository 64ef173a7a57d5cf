"""Hume Expression Measurement v1 realtime audio (`wss://api.cloud.hume.ai/v1/expression/audio/realtime`).

The legacy v0 streaming API (base64 WAV files, 48 emotions) was shut down in June 2026 and `hume` 0.14
dropped it; this adapter speaks the v1 wire protocol directly (aiohttp), which the
`hume-expression-measurement` SDK wraps: `session.created` → `session.update` → binary s16le 16 kHz
mono PCM → `utterance.start` / `measurement.result` / `utterance.end` → `session.close` → `session.closed`.

One connection per participant. Each utterance the audio chain ends (with its pre-roll, plus a silent
tail, `ESCUTA_COACH_HUME_TRAILING_SILENCE_SECONDS`, so Hume closes its own utterance) is sent in
`frame_ms` frames, paced at real time: frame k leaves no earlier than k x frame_ms after the utterance's
first frame. Hume does not document how much quiet ends an utterance; if it needs more than the tail, it
runs a participant's consecutive utterances together (a window spanning several is delivered for each,
clipped to its audio), and the last one is ended only by `session.close` at the end of the meeting,
whose answer carries its final measurement (tests/coach/test_hume.py measures both cases).
Hume numbers audio by its own clock (ms since the session's first frame), so the stream keeps a map from
that clock to our session clock and tags each measurement with the utterance it belongs to.

Failures, and why each is handled so:
- `rate_limited` (session continues, the frame was not measured): the last frame is sent again after
  one frame of back-off, and does not advance the map (Hume did not count it).
- `message_too_large` (session ends): reconnect with half the frame size and resend the utterance.
- a dropped connection or any session-ending error: reconnect with exponential back-off and resend the
  utterance in flight from its first frame; queued utterances wait in order, so the participant's place
  is kept. Measurements already delivered for that utterance are not delivered twice.
- the key refused (401/403: a key without access to the limited-release API, or revoked): the stream
  stops sending at once; `max_attempts` failed sessions in a row: the utterance is given up. Either way
  the utterance is handed to `on_failed` (reason `hume_refused` / `hume_failed`), and so is every later
  one once the stream is `abandon`ed: the coach measures them locally instead (`fallback.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aiohttp
import numpy as np

from agents.audio.frames import SAMPLE_RATE

from .base import ProsodyCapabilities, ProsodyProvider, ProsodyResult, ProsodyStream, ResultCallback, Utterance

log = logging.getLogger("escuta.coach.hume")

AUDIO_FORMAT = {"type": "audio/pcm", "encoding": "s16le", "sample_rate": SAMPLE_RATE, "channels": 1}
MIN_FRAME_BYTES = 640  # 20 ms
TAIL_S = 0.3  # the default trailing silence (ESCUTA_COACH_HUME_TRAILING_SILENCE_SECONDS)
MAX_ATTEMPTS = 6  # consecutive failed sessions before an utterance is given up
TOP_EXPRESSIONS = 10


class HumeError(RuntimeError):
    """The session could not be opened (handshake refused, protocol violation)."""


class HumeAuthError(HumeError):
    """The key was refused (401/403): retrying cannot help, so the stream stops sending."""


@dataclass
class HumeStats:
    sessions: int = 0
    reconnects: int = 0
    frames_sent: int = 0
    rate_limited: int = 0
    too_large: int = 0
    results: int = 0
    dropped_utterances: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Segment:
    hume_start_ms: float
    hume_end_ms: float
    utterance: Utterance

    @property
    def speech_start_ms(self) -> float:  # on Hume's clock: after the pre-roll
        return self.hume_start_ms + (self.utterance.start - self.utterance.audio_start) * 1000.0

    @property
    def speech_end_ms(self) -> float:  # before the silent tail
        return self.hume_start_ms + (self.utterance.end - self.utterance.audio_start) * 1000.0


class _SessionEnded(Exception):
    pass


FailedCallback = Callable[[Utterance, str, str], None]  # (utterance, "hume_refused" | "hume_failed", detail)


class HumeStream(ProsodyStream):
    def __init__(
        self,
        provider: HumeProsody,
        participant_id: str,
        on_result: ResultCallback,
        on_failed: FailedCallback | None = None,
    ) -> None:
        self.p = provider
        self.participant_id = participant_id
        self.on_result = on_result
        self.on_failed = on_failed
        self.stats = HumeStats()
        self.frame_bytes = provider.frame_bytes
        self.disabled = False  # set when the key is refused, or the stream is abandoned
        self.disabled_reason = ("hume_refused", "")
        self._queue: asyncio.Queue[Utterance | None] = asyncio.Queue()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ended = asyncio.Event()  # the current session is over (closed, dropped or fatal error)
        self._closed_ack = asyncio.Event()  # session.closed received
        self._rate_limited = 0
        self._too_large = False
        self._segments: list[_Segment] = []
        self._pos_ms = 0.0
        self._delivered: set[tuple[float, float, float]] = set()
        self._task = asyncio.create_task(self._run(), name="hume-stream")

    def push(self, utterance: Utterance) -> None:
        self._queue.put_nowait(utterance)

    def abandon(self, reason: str, detail: str) -> None:
        """Send nothing more: every utterance not yet sent goes to `on_failed` with this reason."""
        if not self.disabled:
            self.disabled, self.disabled_reason = True, (reason, detail)

    def _give_up(self, utt: Utterance, reason: str, detail: str) -> None:
        self.stats.dropped_utterances += 1
        if self.on_failed is not None:
            self.on_failed(utt, reason, detail)

    async def aclose(self) -> None:
        self._queue.put_nowait(None)
        await self._task

    # --- the sending side ------------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while (utt := await self._queue.get()) is not None:
                await self._send_utterance(utt)
            await self._close_session()
        finally:
            await self._disconnect()

    async def _send_utterance(self, utt: Utterance) -> None:
        pcm = np.concatenate([utt.audio, np.zeros(round(self.p.tail_s * SAMPLE_RATE), dtype=np.int16)])
        data = pcm.astype("<i2").tobytes()
        last_error = ""
        for attempt in range(self.p.max_attempts):
            if self.disabled:
                self._give_up(utt, *self.disabled_reason)
                return
            try:
                await self._ensure_connected()
                await self._send_frames(utt, data)
                return
            except HumeAuthError as exc:
                self.disabled, self.disabled_reason = True, ("hume_refused", str(exc))
                log.warning("hume_key_refused", extra={"detail": str(exc)})
                self._give_up(utt, *self.disabled_reason)
                return
            except (_SessionEnded, aiohttp.ClientError, OSError, TimeoutError, HumeError) as exc:
                last_error = str(exc) if isinstance(exc, HumeError) else type(exc).__name__
                self.stats.errors.append(type(exc).__name__)
                await self._disconnect()
                if self._too_large:
                    self.frame_bytes = max(MIN_FRAME_BYTES, (self.frame_bytes // 2) & ~1)
                    self._too_large = False
                self.stats.reconnects += 1
                await asyncio.sleep(min(self.p.max_backoff, self.p.backoff * 2**attempt))
        log.warning("hume_utterance_dropped", extra={"attempts": self.p.max_attempts, "error": last_error})
        self._give_up(utt, "hume_failed", f"{self.p.max_attempts} sessions failed in a row (last: {last_error})")

    async def _send_frames(self, utt: Utterance, data: bytes) -> None:
        assert self._ws is not None
        seg = _Segment(self._pos_ms, self._pos_ms, utt)
        self._segments.append(seg)
        step = self.frame_bytes
        frame_s = step / 2 / SAMPLE_RATE
        t0 = time.monotonic()
        sent_s = 0.0  # audio Hume has accepted from this utterance
        i = 0
        while i < len(data):
            delay = t0 + sent_s - time.monotonic()  # real-time pacing
            if delay > 0:
                await asyncio.sleep(delay)
            if self._ended.is_set():
                raise _SessionEnded
            if self._rate_limited:
                # The previous frame was not measured: send it again, one frame later.
                self._rate_limited -= 1
                prev = min(step, i) if i else 0
                i -= prev
                sent_s -= prev / 2 / SAMPLE_RATE
                self._pos_ms -= prev / 2 / SAMPLE_RATE * 1000
                t0 += frame_s
                continue
            frame = data[i : i + step]
            await self._ws.send_bytes(frame)
            self.stats.frames_sent += 1
            dur_ms = len(frame) / 2 / SAMPLE_RATE * 1000
            self._pos_ms += dur_ms
            seg.hume_end_ms = self._pos_ms
            sent_s += dur_ms / 1000
            i += len(frame)
        # Let a rate_limited answer to the last frame arrive before moving on.
        await asyncio.sleep(min(0.05, frame_s))
        if self._rate_limited and not self._ended.is_set():
            self._rate_limited -= 1
            last = len(data) - (len(data) - 1) // step * step
            await self._ws.send_bytes(data[-last:])
            self.stats.frames_sent += 1
        if self._ended.is_set():
            raise _SessionEnded

    async def _ensure_connected(self) -> None:
        if self._ws is not None and not self._ws.closed and not self._ended.is_set():
            return
        await self._disconnect()
        headers = {"X-Hume-Api-Key": self.p.api_key}
        try:
            ws = await self.p.http().ws_connect(self.p.url, headers=headers, heartbeat=20.0, max_msg_size=1 << 20)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                raise HumeAuthError(f"key refused: HTTP {exc.status}") from None
            raise HumeError(f"handshake refused: HTTP {exc.status}") from None  # 408/429/5xx: retried
        created = await asyncio.wait_for(ws.receive(), self.p.timeout)
        if created.type != aiohttp.WSMsgType.TEXT or json.loads(created.data).get("type") != "session.created":
            await ws.close()
            raise HumeError("no session.created")
        # session.update is only allowed before the first audio frame, so it goes right away.
        update = {"type": "session.update", "audio": AUDIO_FORMAT, "measurement_timer_ms": self.p.measurement_timer_ms}
        await ws.send_str(json.dumps(update))
        updated = await asyncio.wait_for(ws.receive(), self.p.timeout)
        if updated.type != aiohttp.WSMsgType.TEXT or json.loads(updated.data).get("type") != "session.updated":
            await ws.close()
            raise HumeError("no session.updated")
        self._ws = ws
        self._ended = asyncio.Event()
        self._closed_ack = asyncio.Event()
        self._rate_limited = 0
        self._segments, self._pos_ms = [], 0.0  # Hume's clock restarts with every session
        self.stats.sessions += 1
        self._reader = asyncio.create_task(self._read(ws), name="hume-reader")

    async def _close_session(self) -> None:
        ws = self._ws
        if ws is None or ws.closed or self._ended.is_set():
            return
        with contextlib.suppress(aiohttp.ClientError, OSError):
            await ws.send_str(json.dumps({"type": "session.close"}))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed_ack.wait(), self.p.timeout)

    async def _disconnect(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                await ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, self.p.timeout)
            self._reader = None

    # --- the receiving side ----------------------------------------------------------------------------
    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                self._handle(json.loads(msg.data))
        finally:
            self._ended.set()

    def _handle(self, m: dict[str, Any]) -> None:
        kind = m.get("type")
        if kind == "measurement.result":
            self._deliver(m)
        elif kind == "session.closed":
            self._closed_ack.set()
            self._ended.set()
        elif kind == "error":
            code = str(m.get("code"))
            if code == "rate_limited":
                self.stats.rate_limited += 1
                self._rate_limited += 1
            elif code == "message_too_large":
                self.stats.too_large += 1
                self._too_large = True
            if m.get("retryable") is False:
                self.stats.errors.append(code)
                self._ended.set()

    def _deliver(self, m: dict[str, Any]) -> None:
        start_ms, end_ms = float(m["audio_start_ms"]), float(m["audio_end_ms"])
        # Every utterance whose speech the window covers. Hume segments by its own ear: when the quiet
        # we send is shorter than it needs, it runs consecutive utterances together and measures windows
        # that span them (the last one's only at session.close), so one window may belong to several.
        targets = [s for s in self._segments if s.speech_start_ms < end_ms and start_ms < s.speech_end_ms]
        if not targets:
            # Only silence (pre-roll or tail): the utterance whose audio holds the window's start.
            seg = next((s for s in reversed(self._segments) if s.hume_start_ms <= start_ms), None)
            targets = [seg] if seg is not None else []
        features = {
            "trigger": m.get("trigger"),
            "expressions": list(m.get("expressions") or [])[:TOP_EXPRESSIONS],
            "voice_attributes": list(m.get("voice_attributes") or []),
        }
        for seg in targets:
            self._deliver_to(seg, start_ms, end_ms, features)

    def _deliver_to(self, seg: _Segment, start_ms: float, end_ms: float, features: dict[str, Any]) -> None:
        utt = seg.utterance

        def to_session(ms: float) -> float:
            # Clipped to the audio sent for this utterance: a window may run into the next one's pre-roll.
            return utt.audio_start + (min(max(ms, seg.hume_start_ms), seg.hume_end_ms) - seg.hume_start_ms) / 1000.0

        w0, w1 = to_session(start_ms), to_session(end_ms)
        key = (utt.start, round(w0, 1), round(w1, 1))
        if w1 <= w0 or key in self._delivered:  # measured again after a reconnect
            return
        self._delivered.add(key)
        self.stats.results += 1
        self.on_result(ProsodyResult(self.participant_id, HumeProsody.name, utt.start, utt.end, w0, w1, features))


class HumeProsody(ProsodyProvider):
    name: ClassVar[str] = "hume"
    capabilities: ClassVar[ProsodyCapabilities] = ProsodyCapabilities(streaming=True, offline=False)

    def __init__(
        self,
        *,
        api_key: str,
        url: str = "wss://api.cloud.hume.ai/v1/expression/audio/realtime",
        measurement_timer_ms: int = 3000,
        frame_ms: int = 100,
        tail_s: float = TAIL_S,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        max_attempts: int = MAX_ATTEMPTS,
        timeout: float = 10.0,
    ) -> None:
        if not 3000 <= measurement_timer_ms <= 10000:
            raise ValueError("measurement_timer_ms must be within 3000..10000 (Hume v1 limits)")
        self.api_key = api_key
        self.tail_s = tail_s
        self.max_attempts = max_attempts
        self.url = url
        self.measurement_timer_ms = measurement_timer_ms
        self.frame_bytes = max(MIN_FRAME_BYTES, frame_ms * SAMPLE_RATE // 1000 * 2)
        self.backoff, self.max_backoff, self.timeout = backoff, max_backoff, timeout
        self._http: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    def stream(
        self, participant_id: str, on_result: ResultCallback, on_failed: FailedCallback | None = None
    ) -> HumeStream:
        return HumeStream(self, participant_id, on_result, on_failed)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
