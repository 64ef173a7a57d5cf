"""The meeting_coach profile (issue 9, seed 002): every participant's voice coached, hosts told privately.

One `MeetingCoach` per room (per job), driven through `CoachRunner`: each participant track's handler
joins it with the token's metadata (hosts carry `{"roles":["host"]}`, set by `/token` for members of
the organization) at the track's start on the session clock, and forwards its audio-chain events, so
overlap and silence are judged across participants on one clock. Deliveries leave through
`QueuedOutputs` off the frame loop: a text stream on `escuta.coach.feedback` addressed to the hosts
present (never to everyone; with no host nothing is sent), then stored with its latency. Level
snapshots are stored every `ESCUTA_COACH_SNAPSHOT_INTERVAL_SECONDS` for `GET /feedback/debug`.

Per organization (`coach_settings`): threshold overrides and whether participants' audio is recorded
as WAV segments (seed 002's egress layout). Prosody: local (numpy, offline) unless the organization
has stored a `hume` credential, in which case Hume's v1 realtime API runs with that key; there is no
global Hume key. When Hume refuses the key or keeps failing, the rest of the meeting is measured locally
and the next meeting tries Hume again (`prosody/fallback.py`). `ESCUTA_COACH_PROSODY_PROVIDER=off`
disables prosody.

In `escuta replay` there are no tokens, hence no hosts: every event is recorded (printed as a
`feedback` JSON line with its seed 002 payload) and nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from agents.audio import AudioEvent
from agents.audio.frames import SAMPLE_RATE, FrameEntrance
from agents.coach.engine import MeetingCoach
from agents.coach.feedback import FEEDBACK_TOPIC
from agents.coach.prosody import LocalProsody, ProsodyProvider, ProsodyStatus
from agents.coach.recording import SegmentWriter
from agents.coach.runner import CoachRunner
from agents.coach.store import CoachStore, QueuedOutputs, load_org_config
from agents.profiles.base import ParticipantHandler, Profile, ProfileContext, Speaker, register
from core.settings import Settings

if TYPE_CHECKING:
    from livekit import rtc

log = logging.getLogger("escuta.coach.profile")

RECORD_BATCH_SAMPLES = SAMPLE_RATE  # hand audio to the writer thread once a second, not per 20 ms frame


async def choose_prosody(settings: Settings, resolve: Callable[[str], Awaitable[str]] | None) -> ProsodyProvider | None:
    """Hume with the organization's own `hume` credential when it has one (the local measure taking over
    for the rest of the meeting if Hume refuses or fails), else local; `off`: none."""
    from db.credentials import MissingCredentialError

    if settings.coach.prosody_provider == "off":
        return None
    key: str | None = None
    if resolve is not None:
        try:
            key = await resolve("hume")
        except MissingCredentialError:
            key = None
    if key:
        from agents.coach.prosody.fallback import HumeWithLocalFallback  # aiohttp only when used
        from agents.coach.prosody.hume import HumeProsody

        hume = HumeProsody(
            api_key=key, url=settings.coach.hume_realtime_url, tail_s=settings.coach.hume_trailing_silence_seconds
        )
        return HumeWithLocalFallback(hume)
    if settings.coach.prosody_provider == "hume":
        # Prosody only adds two feedback types: a missing key must not cost the meeting its coach.
        log.warning("hume prosody is configured but the organization has no hume credential; using local")
        return LocalProsody(instead_of=ProsodyStatus("hume", "local", "no_hume_credential"))
    return LocalProsody()


@dataclass(frozen=True)
class RecordingConfig:
    root: Path
    group_seconds: float
    normalize: bool


class _Recorder:
    """A participant's raw audio to WAV segments; the file writes (fsync, rename) run in a thread."""

    def __init__(self, writer: SegmentWriter) -> None:
        self.writer = writer
        self.entrance = FrameEntrance()  # 16 kHz mono int16, whatever the track delivers
        self.segments = 0
        self._batch: list[npt.NDArray[np.int16]] = []
        self._batched = 0
        self._first_at: datetime | None = None
        self._queue: asyncio.Queue[tuple[npt.NDArray[np.int16], datetime] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._write(), name="coach-recorder")
        self._failed = False

    def push(self, frame: rtc.AudioFrame) -> None:
        if self._failed:
            return
        pcm = self.entrance.convert(frame)
        if self._first_at is None:
            self._first_at = datetime.now(UTC)
        self._batch.append(pcm)
        self._batched += len(pcm)
        if self._batched >= RECORD_BATCH_SAMPLES:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._batch:
            self._queue.put_nowait((np.concatenate(self._batch), self._first_at or datetime.now(UTC)))
            self._batch, self._batched = [], 0

    async def _write(self) -> None:
        while (item := await self._queue.get()) is not None:
            if self._failed:
                continue
            try:
                self.segments += len(await asyncio.to_thread(self.writer.push, *item))
            except OSError as exc:
                # A full or read-only disk: stop recording this participant, keep coaching.
                self._failed = True
                log.warning("coach_recording_failed", extra={"error": type(exc).__name__})

    async def aclose(self) -> None:
        self._hand_over()
        self._queue.put_nowait(None)
        await self._task
        if not self._failed:
            try:
                self.segments += len(await asyncio.to_thread(self.writer.close))
            except OSError as exc:
                log.warning("coach_recording_failed", extra={"error": type(exc).__name__})


@register
class MeetingCoachProfile(Profile):
    name = "meeting_coach"
    # The configured VAD for utterances (volume, overlap, turns) and level snapshots (coverage, debug
    # view): the defaults, no overrides; a TV behind a participant is not their turn (issue 19).
    rejects_background = True

    def __init__(self) -> None:
        self.ctx: ProfileContext | None = None
        self.runner: CoachRunner | None = None
        self.outputs: QueuedOutputs | None = None
        self.recording: RecordingConfig | None = None
        self.prosody: ProsodyProvider | None = None
        self.prosody_name = "off"
        self.stats: dict[str, int] = {"tracks": 0, "feedback": 0, "sent": 0, "segments": 0}
        self._open: dict[str, int] = {}  # identity -> tracks being listened to

    async def start(self, ctx: ProfileContext) -> None:
        self.ctx = ctx
        s, session = ctx.settings, ctx.session
        thresholds, record = s.coach.thresholds, s.coach.recordings.enabled
        if ctx.pool is not None:
            try:
                thresholds, record = await load_org_config(ctx.pool, s, session.org_id)
            except ValidationError:
                # Overrides that no longer validate (a renamed key): coach with the defaults, say so.
                log.warning("organization %s has invalid coach overrides; using the defaults", session.org_id)
        if record:
            self.recording = RecordingConfig(
                s.coach.recordings.dir, s.coach.recordings.group_seconds, s.coach.recordings.normalize
            )
        prosody = await choose_prosody(s, ctx.resolve_credential)
        self.prosody = prosody
        self.prosody_name = prosody.name if prosody is not None else "off"
        origin = session.clock_origin.timestamp()
        store = (
            CoachStore(ctx.pool, org_id=session.org_id, meeting_id=session.meeting_id, clock_origin=origin)
            if ctx.pool is not None
            else None
        )
        self.outputs = QueuedOutputs(store, self._send, clock_origin=origin, on_sent=self._sent)
        self.runner = CoachRunner(
            MeetingCoach(session.meeting_id, thresholds),
            self.outputs,
            prosody=prosody,
            snapshot_interval_s=s.coach.snapshot_interval_seconds,
        )

    async def _send(self, recipients: tuple[str, ...], body: str) -> None:
        assert self.ctx is not None
        # Addressed to the hosts only: other participants must never see feedback about themselves.
        await self.ctx.publisher.send_text(FEEDBACK_TOPIC, body, to=list(recipients))

    def _sent(self, payload: dict[str, Any], recipients: tuple[str, ...]) -> None:
        assert self.ctx is not None
        self.stats["feedback"] += 1
        self.stats["sent"] += bool(recipients)
        self.ctx.publisher.record("feedback", {"recipients": list(recipients), "payload": payload})

    def participant(self, speaker: Speaker) -> ParticipantHandler:
        assert self.runner is not None and self.ctx is not None
        self.stats["tracks"] += 1
        self._open[speaker.identity] = self._open.get(speaker.identity, 0) + 1
        # Token metadata decides host or not; a name in it is what the messages call the participant.
        self.runner.join(
            speaker.identity, metadata=speaker.metadata, name=speaker.name or None, at=speaker.clock_offset
        )
        recorder = None
        if self.recording is not None:
            session = self.ctx.session
            recorder = _Recorder(
                SegmentWriter(
                    self.recording.root,
                    meeting_id=session.meeting_id,
                    room=session.room_name,
                    participant=speaker.identity,
                    track=speaker.track_sid or "track",
                    group_seconds=self.recording.group_seconds,
                    normalize=self.recording.normalize,
                )
            )
        return _Participant(self, speaker.identity, recorder)

    def left(self, identity: str) -> None:
        """A track ended; once a participant has none left they are out of the meeting (a departed host
        receives nothing more, and a departed speaker cannot be overlapped)."""
        n = self._open.get(identity, 0) - 1
        if n > 0:
            self._open[identity] = n
            return
        self._open.pop(identity, None)
        if self.runner is not None:
            self.runner.coach.leave(identity)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.stats, "prosody": self.prosody_name}
        if self.prosody is not None and self.prosody.status().fallback is not None:
            status = self.prosody.status()
            out["prosody_fallback"] = {"to": status.provider, "reason": status.fallback, "detail": status.detail}
        if self.runner is not None:
            out["by_type"] = {}
            for fb in self.runner.coach.history:
                out["by_type"][fb.type] = out["by_type"].get(fb.type, 0) + 1
        if self.outputs is not None and self.outputs.latencies_ms:
            lat = sorted(self.outputs.latencies_ms)
            out["latency_ms_p50"] = round(statistics.median(lat), 1)
            out["latency_ms_p95"] = round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 1)
            out["send_errors"] = self.outputs.send_errors
        return out

    async def aclose(self) -> None:
        # Prosody first: a provider still delivering results may still produce feedback to send.
        if self.runner is not None:
            await self.runner.aclose()
        if self.outputs is not None:
            await self.outputs.aclose()


class _Participant(ParticipantHandler):
    def __init__(self, profile: MeetingCoachProfile, identity: str, recorder: _Recorder | None) -> None:
        self.profile = profile
        self.identity = identity
        self.recorder = recorder

    def on_frame(self, frame: rtc.AudioFrame) -> None:
        if self.recorder is not None:
            self.recorder.push(frame)

    def on_event(self, event: AudioEvent) -> None:
        assert self.profile.runner is not None
        self.profile.runner.on_event(self.identity, event)

    async def close(self) -> None:
        if self.recorder is not None:
            await self.recorder.aclose()
            self.profile.stats["segments"] += self.recorder.segments
        self.profile.left(self.identity)
