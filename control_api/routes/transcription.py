"""Transcription: what was said in a session, and seed 000's one-shot `POST /stt`.

`GET /sessions/{meetingId}/transcript` is tenant-scoped like the session itself: another organization's
meeting answers 404, as if it did not exist. WebVTT is chosen with `?format=vtt` or `Accept: text/vtt`;
it holds the transcribed utterances only (failed ones are in the JSON, with their reason).

`POST /stt` transcribes a short audio file with the caller's organization's speech-to-text chain, from
the caller's own credential: the frontend never sends a provider key (seed 000's rule).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from control_api.deps import AppSettings, CurrentPrincipal, Pool, SessionScope
from control_api.errors import ApiError
from control_api.schemas.common import errors
from control_api.schemas.sessions import MeetingId
from control_api.schemas.transcription import (
    STT_MAX_SECONDS,
    STT_REQUEST_BODY,
    VTT_MEDIA_TYPE,
    WEBVTT_RESPONSE,
    SttAnswer,
    Transcript,
    TranscriptItem,
    to_webvtt,
)
from control_api.services.audio import STT_RATE, audio_bytes, decode_upload
from db import sessions as sessions_repo
from db import transcription as repo
from db.credentials import MissingCredentialError, resolve_credential
from db.tenancy import tenant_connection

router = APIRouter(tags=["transcription"])


@router.get("/sessions/{meeting_id}/transcript", response_model=Transcript, responses={200: WEBVTT_RESPONSE})
async def get_transcript(
    meeting_id: MeetingId,
    request: Request,
    pool: Pool,
    scope: SessionScope,
    format: Annotated[Literal["json", "vtt"] | None, Query()] = None,
) -> Transcript | PlainTextResponse:
    async with tenant_connection(pool, scope) as conn:
        rows = await repo.list_transcript(conn, meeting_id, scope)
        known = bool(rows) or await sessions_repo.session_exists(conn, meeting_id, scope)
    if not known:
        raise ApiError(404, "not_found", f"no session with meetingId {meeting_id!r}")
    items = [TranscriptItem.from_row(r) for r in rows]
    wants_vtt = format == "vtt" or (format is None and VTT_MEDIA_TYPE in request.headers.get("accept", ""))
    if wants_vtt:
        return PlainTextResponse(to_webvtt(items), media_type=VTT_MEDIA_TYPE)
    return Transcript.of(meeting_id, items)


# 429: repeated unknown API keys from one source are throttled (control_api/principals.py).
@router.post("/stt", responses=errors(429, 502), openapi_extra={"requestBody": STT_REQUEST_BODY})
async def speech_to_text(principal: CurrentPrincipal, pool: Pool, settings: AppSettings, request: Request) -> SttAnswer:
    """`{"text", "provider", "seconds"}`: the transcript of a short audio file (≤ 60 s, ≤ 10 MB)."""
    from livekit import rtc

    from stt import FallbackTranscriber, build_providers

    # The body limit (ESCUTA_API_MAX_AUDIO_BYTES) is enforced while it arrives (control_api/limits.py).
    body = await audio_bytes(request)
    if not body:
        raise ApiError(400, "invalid_request", "audio: the request has no body")
    pcm = await decode_upload(body, STT_MAX_SECONDS)
    seconds = len(pcm) / STT_RATE

    async def resolve(provider: str) -> str:
        return await resolve_credential(pool, principal.org_id, provider, settings=settings)

    from db.language import org_language
    from stt import LanguageUnsupportedError

    async with tenant_connection(pool, principal.org_id) as conn:
        language = await org_language(conn, principal.org_id)
    try:
        providers = await build_providers(settings, principal.org_id, resolve, language=language)
    except MissingCredentialError as exc:
        raise ApiError(400, "missing_credential", f"the organization has no {exc.provider} key") from None
    except LanguageUnsupportedError as exc:
        raise ApiError(422, "language_unsupported", str(exc)) from None
    frame = rtc.AudioFrame(pcm.tobytes(), STT_RATE, 1, len(pcm))
    chain = FallbackTranscriber(providers, attempt_timeout=settings.stt.attempt_timeout_seconds, cooldown=0.0)
    try:
        outcome = await chain.transcribe(frame)
    finally:
        await chain.aclose()
    if outcome.transcript is None:
        raise ApiError(502, "stt_unavailable", "no speech-to-text provider could transcribe the audio")
    return SttAnswer(text=outcome.transcript.text, provider=outcome.transcript.provider, seconds=round(seconds, 3))
