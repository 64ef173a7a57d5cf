"""`escuta replay FILE`: a profile run on an audio file through exactly the worker's code path.

The file (any format PyAV reads) is decoded to 16 kHz; with `--speakers N` on a file of N or more
channels, channel i is participant `speaker-{i+1}` (a stereo interview becomes two participants), and
with one speaker the channels are mixed. Each participant is a `ParticipantFeed`, as in a room; only
the frame source (the file, optionally paced in real time) and the publisher (JSON lines) differ.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import av
import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents import utils

from agents.audio import load_silero
from agents.audio.frames import SAMPLE_RATE, frames_from_array
from agents.listening import ParticipantFeed
from agents.profiles import ProfileContext, SessionInfo, Speaker, get_profile
from core.settings import Settings

FRAME_MS = 20


class ReplayError(RuntimeError):
    pass


def decode(path: Path, speakers: int) -> list[npt.NDArray[np.int16]]:
    """One 16 kHz int16 track per speaker."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise ReplayError(f"cannot read {path}: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise ReplayError(f"{path} has no audio stream")
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels or 1
        if speakers > 1 and channels < speakers:
            raise ReplayError(f"{path} has {channels} channel(s); --speakers {speakers} needs one per speaker")
        layout = "mono" if speakers == 1 else stream.codec_context.layout.name
        resampler = av.AudioResampler(format="s16", layout=layout, rate=SAMPLE_RATE)
        chunks = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1, out.layout.nb_channels if speakers > 1 else 1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1, out.layout.nb_channels if speakers > 1 else 1))
    if not chunks:
        raise ReplayError(f"{path} holds no audio")
    data = np.concatenate(chunks).astype(np.int16)
    return [np.ascontiguousarray(data[:, i]) for i in range(speakers)]


async def paced(samples: npt.NDArray[np.int16], *, realtime: bool) -> AsyncIterator[rtc.AudioFrame]:
    start = time.perf_counter()
    for i, frame in enumerate(frames_from_array(samples, SAMPLE_RATE, FRAME_MS)):
        if realtime:
            delay = start + i * FRAME_MS / 1000 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        elif i % 50 == 0:
            await asyncio.sleep(0)  # let the transcription tasks run while a long file is fed
        yield frame


@dataclass
class JsonLinesPublisher:
    out: TextIO

    async def publish_transcript(self, speaker: Speaker, segment_id: str, text: str) -> None:
        return None  # `record` prints the full result

    async def send_text(
        self, topic: str, text: str, *, to: list[str] | None = None, attributes: dict[str, str] | None = None
    ) -> None:
        self.record("text", {"topic": topic, "to": to, "attributes": attributes, "text": text})

    def record(self, kind: str, data: dict[str, Any]) -> None:
        self.out.write(json.dumps({"event": kind, **data}, ensure_ascii=False) + "\n")
        self.out.flush()


async def _store_session(pool: Any, session: SessionInfo, ended: bool) -> None:
    from db.sessions import upsert_session
    from db.tenancy import tenant_connection

    async with tenant_connection(pool, session.org_id) as conn:
        await upsert_session(
            conn,
            meeting_id=session.meeting_id,
            room_name=session.room_name,
            status="ENDED" if ended else "ACTIVE",
            started_at=session.clock_origin,
            ended_at=datetime.now(UTC) if ended else None,
            org_id=session.org_id,
        )


async def replay(
    path: Path,
    settings: Settings,
    *,
    profile: str = "transcription",
    speakers: int = 1,
    realtime: bool = False,
    store: bool = False,
    org_id: uuid.UUID | None = None,
    out: TextIO = sys.stdout,
) -> dict[str, Any]:
    """Run the replay; prints JSON lines to `out` and returns the summary (also printed)."""
    profile_cls = get_profile(profile)
    if profile_cls is None:
        raise ReplayError(f"unknown profile {profile!r}")
    if speakers < 1:
        raise ReplayError("--speakers must be at least 1")
    tracks = decode(path, speakers)
    session = SessionInfo(
        meeting_id=f"replay-{uuid.uuid4().hex[:12]}",
        room_name=f"replay:{path.name}",
        org_id=org_id,
        solution=None,
        clock_origin=datetime.now(UTC),
    )
    pool = None
    if store:
        if not settings.db.url:
            raise ReplayError("--store needs ESCUTA_DATABASE_URL")
        from db.pool import create_pool

        pool = await create_pool(settings.db.url, settings, min_size=0, max_size=2)
    publisher = JsonLinesPublisher(out)
    t0 = time.perf_counter()
    try:
        async with utils.http_context.open():
            prof = profile_cls()
            prof.configure_audio(settings)
            resolve = None
            if pool is not None and org_id is not None:
                from db.credentials import resolve_credential

                async def resolve(credential: str) -> str:
                    return await resolve_credential(pool, org_id, credential, settings=settings)

            await prof.start(ProfileContext(session, settings, publisher, pool, resolve))
            if pool is not None:
                await _store_session(pool, session, ended=False)
            vad = load_silero(prof.audio.silero_backend) if prof.audio.vad != "webrtc" else None
            feeds = [ParticipantFeed(prof, Speaker(f"speaker-{i + 1}", None), vad_model=vad) for i in range(speakers)]
            await asyncio.gather(*(f.run(paced(t, realtime=realtime)) for f, t in zip(feeds, tracks, strict=True)))
            await prof.aclose()
            if pool is not None:
                await _store_session(pool, session, ended=True)
    finally:
        if pool is not None:
            await pool.close()
    summary = {
        "event": "summary",
        "meeting_id": session.meeting_id,
        "profile": profile,
        "speakers": speakers,
        "audio_seconds": round(len(tracks[0]) / SAMPLE_RATE, 3),
        "wall_seconds": round(time.perf_counter() - t0, 3),
        "stored": store,
        **prof.summary(),
    }
    out.write(json.dumps(summary) + "\n")
    out.flush()
    return summary
