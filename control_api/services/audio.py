"""Audio files uploaded to the API (`POST /stt`): the form's file part, decoded to 16 kHz mono PCM."""

from __future__ import annotations

import email.parser
import email.policy
import io
from typing import Any

import av
import numpy as np

from control_api.errors import ApiError

STT_RATE = 16000


def audio_bytes(request_body: bytes, content_type: str) -> bytes:
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
