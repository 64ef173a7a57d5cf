"""A stub of Hume's Expression Measurement v1 realtime audio API on 127.0.0.1 (providers.md §1A).

It checks the `X-Hume-Api-Key` header, sends `session.created`, accepts one `session.update` before the
first audio frame, and measures binary s16le 16 kHz mono PCM: an utterance is a run of frames louder
than `speech_rms`, ended by `end_silence_ms` of quiet (300 ms by default; Hume does not document its
own); it emits `utterance.start`, a `measurement.result` every `measurement_timer_ms` of utterance audio
("interval") and at its end ("speech_ended"), and `utterance.end`. `session.close` is answered with the
final results and `session.closed`; `StubSession.close_received_at` is how many messages the session had
sent by then, so a test can tell which results only the close produced.

Faults, for the adapter's tests: frames arriving faster than real time (or listed in
`rate_limit_frames`) get `rate_limited` and are not measured; a message over `max_message_bytes` ends
the session with `message_too_large`; `drop_after_frames` aborts the TCP connection of the first session
after that many frames, with no close frame (a dropped connection).

Access, for the fallback's tests: `refuse_status` (401 or 403) refuses every handshake, whatever the key,
as Hume refuses a key without access to the limited-release API; `fail_after_frames` drops the
connection after that many frames in all and answers every later handshake with `fail_status` (503: the
service went down mid-meeting; 401: the key was revoked mid-meeting). `handshakes` counts the answers.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from tests.local_http import serve

API_KEY = "stub-hume-key"
SPEECH_RMS = 300.0
END_SILENCE_MS = 300.0
RT_TOLERANCE_S = 0.3


@dataclass
class StubSession:
    frames: int = 0
    audio_ms: float = 0.0
    measured_ms: float = 0.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    closed_reason: str | None = None
    close_received_at: int | None = None  # len(messages) when session.close arrived


@dataclass
class HumeStub:
    max_message_bytes: int = 1_048_576
    max_frame_bytes: int = 320_000
    rate_limit_frames: set[int] = field(default_factory=set)  # global frame numbers to reject once
    drop_after_frames: int | None = None
    speech_rms: float = SPEECH_RMS  # frames louder than this are speech (lower it for very quiet voices)
    end_silence_ms: float = END_SILENCE_MS  # quiet that ends an utterance
    refuse_status: int | None = None
    fail_after_frames: int | None = None
    fail_status: int = 503
    handshakes: Counter[int] = field(default_factory=Counter)
    sessions: list[StubSession] = field(default_factory=list)
    total_frames: int = 0
    runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/v1/expression/audio/realtime", self._ws)
        self.runner, port = await serve(app)
        self.url = f"ws://127.0.0.1:{port}/v1/expression/audio/realtime"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def _failed(self) -> bool:
        return self.fail_after_frames is not None and self.total_frames >= self.fail_after_frames

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_status is not None:
            self.handshakes[self.refuse_status] += 1
            body = {"message": "this key has no access to the expression measurement API", "request_id": "req-1"}
            return web.json_response(body, status=self.refuse_status)
        if request.headers.get("X-Hume-Api-Key") != API_KEY:
            self.handshakes[401] += 1
            return web.json_response({"message": "invalid API key", "request_id": "req-1"}, status=401)
        if self._failed():
            self.handshakes[self.fail_status] += 1
            return web.json_response({"message": "unavailable", "request_id": "req-1"}, status=self.fail_status)
        self.handshakes[101] += 1
        ws = web.WebSocketResponse(max_msg_size=0)  # size limits are enforced below, as Hume does
        await ws.prepare(request)
        sess = StubSession()
        self.sessions.append(sess)
        first_session = len(self.sessions) == 1
        timer_ms = 3000.0

        async def send(m: dict[str, Any]) -> None:
            sess.messages.append(m)
            await ws.send_str(json.dumps(m))

        await send(
            {
                "type": "session.created",
                "session_id": f"s{len(self.sessions)}",
                "audio": _FORMAT,
                "measurement_timer_ms": 3000,
            }
        )
        utt = _Utterance()
        started: float | None = None
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                m = json.loads(msg.data)
                if m.get("type") == "session.update":
                    if sess.frames:
                        await send(
                            {"type": "error", "code": "config_invalid", "message": "after audio", "retryable": False}
                        )
                        break
                    timer_ms = float(m.get("measurement_timer_ms", 3000))
                    await send(
                        {"type": "session.updated", "audio": m.get("audio", _FORMAT), "measurement_timer_ms": timer_ms}
                    )
                elif m.get("type") == "session.close":
                    sess.close_received_at = len(sess.messages)
                    for r in utt.finish(sess.audio_ms, "speech_ended"):
                        await send(r)
                    sess.closed_reason = "client_request"
                    await send(
                        {
                            "type": "session.closed",
                            "session_id": f"s{len(self.sessions)}",
                            "reason": "client_request",
                            "received": {"audio_duration_ms": sess.audio_ms, "frames": sess.frames},
                            "produced": {"utterances": utt.count, "measurements": utt.measurements},
                        }
                    )
                    break
                else:
                    await send({"type": "error", "code": "message_invalid", "message": "unknown", "retryable": True})
                continue
            if msg.type != WSMsgType.BINARY:
                continue
            data: bytes = msg.data
            self.total_frames += 1
            if len(data) > self.max_message_bytes:
                sess.closed_reason = "message_too_large"
                await send(
                    {"type": "error", "code": "message_too_large", "message": "frame too large", "retryable": False}
                )
                await ws.close(code=1008)
                break
            if len(data) > self.max_frame_bytes or len(data) % 2:
                await send({"type": "error", "code": "invalid_audio_frame", "message": "bad frame", "retryable": True})
                continue
            now = time.monotonic()
            started = started if started is not None else now
            ahead = (sess.audio_ms + len(data) / 32.0) / 1000.0 - (now - started)
            if self.total_frames in self.rate_limit_frames or ahead > RT_TOLERANCE_S:
                self.rate_limit_frames.discard(self.total_frames)
                await send({"type": "error", "code": "rate_limited", "message": "slow down", "retryable": True})
                continue
            sess.frames += 1
            x = np.frombuffer(data, dtype="<i2").astype(np.float64)
            loud = bool(len(x)) and float(np.sqrt(np.mean(x * x))) > self.speech_rms
            for r in utt.add(sess.audio_ms, len(x) / 16.0, loud, timer_ms, self.end_silence_ms):
                await send(r)
            sess.audio_ms += len(x) / 16.0
            dropped = first_session and self.drop_after_frames is not None and sess.frames >= self.drop_after_frames
            if dropped or self._failed():
                sess.closed_reason = "dropped"
                assert request.transport is not None
                request.transport.abort()  # no close frame: the client sees an abnormal closure
                break
        return ws


_FORMAT = {"type": "audio/pcm", "encoding": "s16le", "sample_rate": 16000, "channels": 1}


class _Utterance:
    def __init__(self) -> None:
        self.id = -1
        self.start_ms: float | None = None
        self.window_start = 0.0
        self.quiet_ms = 0.0
        self.count = 0
        self.measurements = 0

    def add(self, pos: float, dur: float, loud: bool, timer_ms: float, end_silence_ms: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.start_ms is None:
            if not loud:
                return out
            self.id += 1
            self.count += 1
            self.start_ms = self.window_start = pos
            self.quiet_ms = 0.0
            out.append({"type": "utterance.start", "utterance_id": self.id, "audio_start_ms": pos})
        end = pos + dur
        self.quiet_ms = 0.0 if loud else self.quiet_ms + dur
        if end - self.window_start >= timer_ms:
            out.append(self._result(end, "interval"))
            self.window_start = end
        if self.quiet_ms >= end_silence_ms:
            out += self.finish(end, "speech_ended")
        return out

    def finish(self, end: float, trigger: str) -> list[dict[str, Any]]:
        if self.start_ms is None:
            return []
        out = [self._result(end, trigger)] if end > self.window_start else []
        out.append(
            {"type": "utterance.end", "utterance_id": self.id, "audio_start_ms": self.start_ms, "audio_end_ms": end}
        )
        self.start_ms = None
        return out

    def _result(self, end: float, trigger: str) -> dict[str, Any]:
        assert self.start_ms is not None
        self.measurements += 1
        # The window is the most recent <=10 s of the utterance, as Hume's.
        return {
            "type": "measurement.result",
            "measurement_id": self.measurements - 1,
            "utterance_id": self.id,
            "audio_start_ms": max(self.start_ms, end - 10_000),
            "audio_end_ms": end,
            "trigger": trigger,
            "expressions": [{"name": "interest", "probability": 0.62}, {"name": "calmness", "probability": 0.41}],
            "voice_attributes": [{"name": "clear", "probability": 0.96}],
        }
