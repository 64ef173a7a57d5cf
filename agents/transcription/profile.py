"""The transcription profile: every utterance of every participant to speech-to-text, stored, published.

Per participant, utterances are transcribed in order by one task (a speaker's lines stay in order);
participants run concurrently. An utterance no provider could transcribe is stored as `failed` with
the reason and its audio kept on disk: nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from agents.audio import AudioEvent, SpeechEnded
from agents.audio.frames import SAMPLE_RATE, write_wav
from agents.profiles.base import ParticipantHandler, Profile, ProfileContext, Speaker, register
from db.tenancy import tenant_connection
from db.transcription import TranscriptRow, insert_transcript
from stt import FallbackTranscriber, Outcome, build_providers

log = logging.getLogger("escuta.transcription")


@register
class TranscriptionProfile(Profile):
    name = "transcription"
    # VAD and segmentation only: level snapshots are not used here, so they are not computed.
    audio_overrides: ClassVar[Mapping[str, Any]] = MappingProxyType({"levels": False})

    def __init__(self) -> None:
        self.ctx: ProfileContext | None = None
        self.stt: FallbackTranscriber | None = None
        self.stats: dict[str, int] = {
            "utterances": 0,
            "transcribed": 0,
            "failed": 0,
            "store_errors": 0,
            "background": 0,  # judged a TV/radio/other voice by the audio chain: not transcribed
        }
        self.own_latency_ms: list[float] = []
        self.provider_ms: list[float] = []

    async def start(self, ctx: ProfileContext) -> None:
        self.ctx = ctx
        providers = await build_providers(
            ctx.settings, ctx.session.org_id, ctx.resolve_credential, language=ctx.session.language
        )
        self.stt = FallbackTranscriber(
            providers,
            attempt_timeout=ctx.settings.stt.attempt_timeout_seconds,
            cooldown=ctx.settings.stt.cooldown_seconds,
        )

    def participant(self, speaker: Speaker) -> ParticipantHandler:
        return _Listener(self, speaker)

    def failed_audio_dir(self) -> Path:
        assert self.ctx is not None
        s = self.ctx.settings
        return s.stt.transcription_failed_audio_dir or s.data_dir / "failed_utterances"

    async def handle(self, speaker: Speaker, utt: SpeechEnded, received: float) -> None:
        """Transcribe, store and publish one utterance. `received`: perf_counter when it was cut."""
        assert self.ctx is not None and self.stt is not None
        if utt.is_background:
            # Someone else's voice (the TV behind the counter): its words are not the participant's.
            self.stats["background"] += 1
            return
        self.stats["utterances"] += 1
        outcome = await self.stt.transcribe(utt.frame())
        segment_id = "SG_" + uuid.uuid4().hex[:12]
        audio_ref = None if outcome.ok else self._keep_audio(segment_id, utt)
        row = self._row(speaker, utt, segment_id, outcome, received, audio_ref)
        if outcome.ok and row.text:
            try:
                await self.ctx.publisher.publish_transcript(speaker, segment_id, row.text)
            except Exception:
                log.exception("publishing a transcript failed (segment %s)", segment_id)
        total_ms = (time.perf_counter() - received) * 1000
        if outcome.ok:
            self.stats["transcribed"] += 1
            self.provider_ms.append(outcome.provider_seconds * 1000)
            self.own_latency_ms.append(max(0.0, total_ms - outcome.provider_seconds * 1000))
        else:
            self.stats["failed"] += 1
            log.warning("utterance %s failed on every provider: %s", segment_id, outcome.failure_reason)
        await self._store(row)
        self.ctx.publisher.record("transcript", _record(row))
        await self.on_transcript(speaker, row)

    async def on_transcript(self, speaker: Speaker, row: TranscriptRow) -> None:
        """Called after each utterance is stored and published (failed ones too): the seam for
        profiles built on transcription (a subclass overrides it; it runs in the speaker's order)."""
        return None

    def _row(
        self,
        speaker: Speaker,
        utt: SpeechEnded,
        segment_id: str,
        outcome: Outcome,
        received: float,
        audio_ref: str | None,
    ) -> TranscriptRow:
        assert self.ctx is not None
        session = self.ctx.session
        t = outcome.transcript
        return TranscriptRow(
            meeting_id=session.meeting_id,
            segment_id=segment_id,
            participant_identity=speaker.identity,
            track_sid=speaker.track_sid,
            org_id=session.org_id,
            start_s=round(max(0.0, utt.start), 3),
            end_s=round(max(utt.end, utt.start, 0.0), 3),
            started_at=session.clock_origin + timedelta(seconds=max(0.0, utt.start)),
            status="ok" if t is not None else "failed",
            text=t.text if t is not None else None,
            language=t.language if t is not None else None,
            provider=t.provider if t is not None else None,
            model=t.model if t is not None else None,
            confidence=t.confidence if t is not None else None,
            latency_ms=round((time.perf_counter() - received) * 1000, 1),
            provider_ms=round(outcome.provider_seconds * 1000, 1) if t is not None else None,
            failure_reason=outcome.failure_reason,
            audio_ref=audio_ref,
            attempts=[
                {"provider": a.provider, "outcome": a.outcome, "seconds": round(a.seconds, 3)} for a in outcome.attempts
            ],
            background=utt.background.decision if utt.background else None,
            background_confidence=utt.background.confidence if utt.background else None,
            background_margin_db=utt.background.margin_db if utt.background else None,
        )

    def _keep_audio(self, segment_id: str, utt: SpeechEnded) -> str | None:
        assert self.ctx is not None
        folder = self.failed_audio_dir() / self.ctx.session.meeting_id.replace("/", "_")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{segment_id}.wav"
            write_wav(path, utt.audio, SAMPLE_RATE)
            return str(path)
        except OSError:
            log.exception("cannot keep the audio of failed utterance %s", segment_id)
            return None

    async def _store(self, row: TranscriptRow) -> None:
        assert self.ctx is not None
        if self.ctx.pool is None:
            return
        try:
            async with tenant_connection(self.ctx.pool, row.org_id) as conn:
                await insert_transcript(conn, row)
        except Exception:
            self.stats["store_errors"] += 1
            log.exception("storing transcript segment %s failed", row.segment_id)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.stats)
        if self.stt is not None:
            out["providers"] = {f"{p}:{k}": n for (p, k), n in sorted(self.stt.stats.items())}
        return out

    async def aclose(self) -> None:
        if self.stt is not None:
            await self.stt.aclose()


class _Listener(ParticipantHandler):
    def __init__(self, profile: TranscriptionProfile, speaker: Speaker) -> None:
        self.profile = profile
        self.speaker = speaker
        self._queue: asyncio.Queue[tuple[SpeechEnded, float] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def on_event(self, event: AudioEvent) -> None:
        if not isinstance(event, SpeechEnded):
            return
        self._queue.put_nowait((event, time.perf_counter()))
        if self._task is None:
            self._task = asyncio.create_task(self._work(), name=f"transcribe:{self.speaker.track_sid}")

    async def _work(self) -> None:
        while (item := await self._queue.get()) is not None:
            utt, received = item
            try:
                await self.profile.handle(self.speaker, utt, received)
            except Exception:
                # One bad utterance must not silence the participant for the rest of the session.
                log.exception("transcribing an utterance failed unexpectedly")

    async def close(self) -> None:
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task


def _record(row: TranscriptRow) -> dict[str, Any]:
    return {
        "segment_id": row.segment_id,
        "speaker": row.participant_identity,
        "start": row.start_s,
        "end": row.end_s,
        "status": row.status,
        "text": row.text,
        "language": row.language,
        "provider": row.provider,
        "confidence": row.confidence,
        "latency_ms": row.latency_ms,
        "provider_ms": row.provider_ms,
        "failure_reason": row.failure_reason,
        "audio_ref": row.audio_ref,
    }
