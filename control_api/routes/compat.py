"""Seed 000's frontend routes, kept: `GET /new` (join an avatar session) and `POST /stt` (transcribe).

Both act for the caller's organization only, from the caller's credential (a user access token, a
device key or a publishable key): the frontend never sends a provider key (seed 000's rule).
`/new` mints what `/token` would for the organization's avatar solution: the same grants, room
naming, room registry, rate limit and credit check (402). `/stt` runs the organization's speech-to-text chain.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import uuid
from typing import Any

import av
import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from control_api.deps import AppSettings, CurrentPrincipal, Pool
from control_api.errors import ApiError
from control_api.principals import limiter, rate_limited
from control_api.routes import token as token_route
from control_api.routes.credits import require_avatar_credit
from db import solutions as solutions_repo
from db.credentials import MissingCredentialError, resolve_credential
from db.credits import AVATAR_PROFILE
from db.tenancy import tenant_connection
from escuta.security.ratelimit import RateLimited
from escuta.settings import Settings

router = APIRouter(tags=["avatar"])
STT_MAX_BYTES = 10 * 1024 * 1024
STT_MAX_SECONDS = 60.0
STT_RATE = 16000


@router.get("/new")
async def new_session(
    principal: CurrentPrincipal,
    pool: Pool,
    request: Request,
    solution: str | None = Query(None, pattern=r"^[A-Za-z0-9_.]{1,64}$"),
    userId: str | None = Query(None, pattern=r"^[\w.@-]{1,128}$"),
) -> JSONResponse:
    """`{token, room, url, identity, apiKey}` for the organization's avatar solution (or the named one)."""
    async with tenant_connection(pool, principal.org_id) as conn:
        solutions = await solutions_repo.list_solutions(conn, principal.org_id)
    avatars = [s["name"] for s in solutions if s["profile"] == AVATAR_PROFILE]
    if solution is None:
        if not avatars:
            raise ApiError(404, "unknown_solution", "the organization has no avatar solution (PUT /solutions/{name})")
        solution = avatars[0]
    elif solution not in avatars:
        raise ApiError(404, "unknown_solution", f"solution {solution!r} is not an avatar solution of this organization")
    settings: Settings = request.app.state.settings
    try:
        limiter(request).hit(settings.rate_limit_token, "token:subject", principal.subject)
    except RateLimited as exc:
        raise rate_limited(exc) from None
    await require_avatar_credit(pool, principal.org_id)
    visitor = userId or f"visitor-{uuid.uuid4().hex[:12]}"
    body = token_route.TokenBody(solution=solution, clientId=str(principal.org_id), userId=visitor)
    room = f"{solution}-{principal.org_id}-{visitor}"  # the same room naming as /token
    async with tenant_connection(pool, principal.org_id) as conn:
        await solutions_repo.register_room(conn, principal.org_id, room, solution, AVATAR_PROFILE)
    signed = token_route.mint(settings, principal, body, room, AVATAR_PROFILE)
    return JSONResponse(
        {
            "token": signed,
            "room": room,
            "identity": room,
            "apiKey": settings.livekit_api_key,
            "url": settings.livekit_url,
        }
    )


def _audio_bytes(request_body: bytes, content_type: str) -> bytes:
    """The raw body, or the first file part of a multipart form (seed 000's frontend sent a form)."""
    if not content_type.startswith("multipart/form-data"):
        return request_body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request_body
    )
    for part in message.iter_parts():
        if part.get_filename() is not None or part.get_content_maintype() == "audio":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload
    raise ApiError(400, "invalid_request", "audio: no file part in the form")


def decode_16k_mono(data: bytes) -> np.ndarray[Any, np.dtype[np.int16]]:
    """Any container/codec PyAV reads, as 16 kHz mono PCM."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=STT_RATE)
            chunks = []
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, IndexError, ValueError):
        raise ApiError(400, "invalid_audio", "audio: not a readable audio file") from None
    if not chunks:
        raise ApiError(400, "invalid_audio", "audio: the file has no audio")
    return np.concatenate(chunks).astype(np.int16)


@router.post("/stt")
async def speech_to_text(
    principal: CurrentPrincipal, pool: Pool, settings: AppSettings, request: Request
) -> dict[str, Any]:
    """`{"text", "provider", "seconds"}`: the transcript of a short audio file (≤ 60 s, ≤ 10 MB)."""
    from livekit import rtc

    from agents.stt import FallbackTranscriber, build_providers

    body = await request.body()
    if not body:
        raise ApiError(400, "invalid_request", "audio: the request has no body")
    if len(body) > STT_MAX_BYTES:
        raise ApiError(413, "payload_too_large", "audio: at most 10 MB")
    pcm = await asyncio.to_thread(decode_16k_mono, _audio_bytes(body, request.headers.get("content-type", "")))
    seconds = len(pcm) / STT_RATE
    if seconds > STT_MAX_SECONDS:
        raise ApiError(413, "payload_too_large", f"audio: at most {STT_MAX_SECONDS:.0f} seconds")

    async def resolve(provider: str) -> str:
        return await resolve_credential(pool, principal.org_id, provider, settings=settings)

    try:
        providers = await build_providers(settings, principal.org_id, resolve)
    except MissingCredentialError as exc:
        raise ApiError(400, "missing_credential", f"the organization has no {exc.provider} key") from None
    frame = rtc.AudioFrame(pcm.tobytes(), STT_RATE, 1, len(pcm))
    chain = FallbackTranscriber(providers, attempt_timeout=settings.stt_attempt_timeout_seconds, cooldown=0.0)
    try:
        outcome = await chain.transcribe(frame)
    finally:
        await chain.aclose()
    if outcome.transcript is None:
        raise ApiError(502, "stt_unavailable", "no speech-to-text provider could transcribe the audio")
    return {"text": outcome.transcript.text, "provider": outcome.transcript.provider, "seconds": round(seconds, 3)}
