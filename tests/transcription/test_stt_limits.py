"""Issue 14.2: `POST /stt` cannot be made to freeze the API or to eat its memory.

- A multipart body of hundreds of thousands of parts was parsed whole, on the event loop, by the
  standard library's e-mail parser (65 s for 8 MB): the form is now parsed as it streams, with limits on
  its parts, so it is refused after the first chunk while other requests are answered.
- A small FLAC of hours of silence was decoded in full before the 60 s limit was checked (1.2 GB of RSS
  for 4 hours): decoding now stops at the limit, in the bounded CPU pool.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import tracemalloc
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from control_api.errors import ApiError
from control_api.services.audio import STT_RATE, TooLong, decode_16k_mono
from tests.accounts.helpers import register
from tests.cpu_pool import cpu_pool_held, still_pending

CHUNK = 64 * 1024


class CountingBody:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.data), CHUNK):
            chunk = self.data[i : i + CHUNK]
            self.pulled += len(chunk)
            yield chunk


def wav(seconds: float, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros(int(seconds * rate), dtype=np.int16).tobytes())
    return buf.getvalue()


@pytest.fixture(scope="module")
def long_silence_flac(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """10 minutes of digital silence at 16 kHz: a small FLAC, 19 MB once decoded."""
    path = Path(tmp_path_factory.mktemp("stt")) / "silence.flac"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(path), "trim", "0", "10:00"], check=True)
    return path.read_bytes()


@pytest.mark.parametrize(
    "part",
    [
        b"--b\r\n\r\n\r\n",  # the body: parts with no headers at all
        b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n\r\n',  # well-formed empty fields
    ],
)
async def test_many_parts_are_refused_while_streaming(client: httpx.AsyncClient, part: bytes) -> None:
    org = await register(client)
    body = CountingBody(part * (8 * 1024 * 1024 // len(part)) + b"--b--\r\n")
    headers = {**org.headers, "Content-Type": "multipart/form-data; boundary=b"}
    stt = asyncio.create_task(client.post("/stt", content=body, headers=headers))
    other = asyncio.create_task(client.get("/health"))
    r, health = await asyncio.gather(stt, other)
    assert health.status_code == 200
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"]
    # Refused within the first chunks: the rest of the 8 MB was never read, let alone parsed.
    assert body.pulled <= 2 * CHUNK < len(body.data)


async def test_a_form_with_more_files_than_one_is_refused(client: httpx.AsyncClient) -> None:
    org = await register(client)
    files = [("audio", (f"a{i}.wav", wav(0.1), "audio/wav")) for i in range(3)]
    r = await client.post("/stt", files=files, headers=org.headers)
    assert r.status_code == 400 and "files" in r.json()["error"]["message"].lower()


async def test_long_silence_is_refused_having_decoded_only_up_to_the_limit(
    client: httpx.AsyncClient, long_silence_flac: bytes
) -> None:
    org = await register(client)
    headers = {**org.headers, "Content-Type": "audio/flac"}
    tracemalloc.start()
    try:
        r = await client.post("/stt", content=long_silence_flac, headers=headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "payload_too_large" and "60 seconds" in r.json()["error"]["message"]
    # 60 s at 16 kHz is 1.9 MB of samples; the whole file would be 19 MB (twice that while joined).
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_decoding_stops_at_the_limit(long_silence_flac: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TooLong):
            decode_16k_mono(long_silence_flac, 60.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    pcm = decode_16k_mono(wav(2.0), 60.0)
    assert len(pcm) == 2 * STT_RATE
    with pytest.raises(ApiError):
        decode_16k_mono(b"not audio at all", 60.0)


async def test_decoding_waits_for_the_cpu_pool_not_the_loop(client: httpx.AsyncClient) -> None:
    org = await register(client)
    headers = {**org.headers, "Content-Type": "audio/wav"}
    async with cpu_pool_held():
        stt = asyncio.create_task(client.post("/stt", content=wav(61.0), headers=headers))
        assert (await client.get("/health")).status_code == 200
        assert await still_pending(stt)
    r = await stt
    assert r.status_code == 413, r.text
