"""Audio files uploaded to the API (`POST /stt`): the form's file part, decoded to 16 kHz mono PCM.

Both steps are bounded (issue 14.2). A form is parsed as it streams in (python-multipart through
Starlette's `request.form`) with limits on its parts: a body of hundreds of thousands of empty parts is
refused at the first part over the limit, not parsed whole. Decoding runs in the shared CPU pool
(core/offload.py) and stops at the duration limit: a small file of hours of silence costs at most
`max_seconds` of decoded samples, never its full length.
"""

from __future__ import annotations

import io
from typing import Any

import av
import numpy as np
from fastapi import Request
from starlette.datastructures import UploadFile

from control_api.errors import ApiError
from core.offload import run_cpu

STT_RATE = 16000
# Seed 000's frontend sends one file part; a few text fields alongside are tolerated, nothing more.
MAX_FORM_FILES = 1
MAX_FORM_FIELDS = 8
MAX_FORM_FIELD_BYTES = 4096


async def audio_bytes(request: Request) -> bytes:
    """The raw body, or the file part of a multipart form (seed 000's frontend sent a form)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await request.body()
    # A malformed form or one over the limits raises a 400 naming the problem (Starlette's MultiPartException).
    async with request.form(
        max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_FIELD_BYTES
    ) as form:
        for _name, value in form.multi_items():
            if isinstance(value, UploadFile):
                # At most the body limit: the file was spooled to disk past 1 MB, read back in a thread.
                return await value.read()
    raise ApiError(400, "invalid_request", "audio: no file part in the form")


class TooLong(Exception):
    """The audio goes on past the duration limit (decoding stopped there)."""


def decode_16k_mono(data: bytes, max_seconds: float) -> np.ndarray[Any, np.dtype[np.int16]]:
    """Any container/codec PyAV reads, as 16 kHz mono PCM; raises TooLong past `max_seconds`.

    Decoded frame by frame and stopped as soon as the output passes the limit, so the memory it takes
    is bounded by the limit (at 16 kHz, 16-bit: 32 kB per second), whatever the file claims."""
    max_samples = int(max_seconds * STT_RATE)
    chunks: list[np.ndarray[Any, Any]] = []
    total = 0

    def keep(frames: list[av.AudioFrame]) -> None:
        nonlocal total
        for out in frames:
            samples = out.to_ndarray().reshape(-1)
            total += len(samples)
            if total > max_samples:
                raise TooLong
            chunks.append(samples)

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=STT_RATE)
            for frame in container.decode(audio=0):
                keep(resampler.resample(frame))
            keep(resampler.resample(None))
    except (av.error.FFmpegError, IndexError, ValueError):
        raise ApiError(400, "invalid_audio", "audio: not a readable audio file") from None
    if not chunks:
        raise ApiError(400, "invalid_audio", "audio: the file has no audio")
    return np.concatenate(chunks).astype(np.int16)


async def decode_upload(data: bytes, max_seconds: float) -> np.ndarray[Any, np.dtype[np.int16]]:
    """`decode_16k_mono` off the event loop (the CPU pool bounds how many run at once)."""
    try:
        return await run_cpu(decode_16k_mono, data, max_seconds)
    except TooLong:
        raise ApiError(413, "payload_too_large", f"audio: at most {max_seconds:.0f} seconds") from None
