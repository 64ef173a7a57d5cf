"""Streaming-only providers used per utterance: push the audio, close the turn, read the final text.

AssemblyAI v3 finalises a turn when the input ends (the plugin sends `Terminate` and the server
answers with the last `Turn` before closing). ElevenLabs realtime with manual commits finalises on
`flush()` (a `commit: true` chunk) but keeps the socket open, so there we stop at the first final.
"""

from __future__ import annotations

from typing import Any

from livekit import rtc
from livekit.agents import NOT_GIVEN, APIConnectOptions
from livekit.agents import stt as lk_stt

CHUNK_MS = 50  # what both streaming plugins send per message anyway


class NoTranscriptError(RuntimeError):
    """The provider ended the stream without a final transcript."""


def _chunks(audio: rtc.AudioFrame, chunk_ms: int = CHUNK_MS) -> list[rtc.AudioFrame]:
    n = audio.sample_rate * chunk_ms // 1000 * audio.num_channels
    data = audio.data  # memoryview of int16
    out = []
    for i in range(0, len(data), n):
        part = data[i : i + n]
        out.append(
            rtc.AudioFrame(part.tobytes(), audio.sample_rate, audio.num_channels, len(part) // audio.num_channels)
        )
    return out


async def recognize_streamed(
    stt: lk_stt.STT[Any], audio: rtc.AudioFrame, *, language: str | None, conn_options: APIConnectOptions
) -> tuple[str, str | None, float | None]:
    """(text, language, confidence) of one utterance through `stt.stream()`; raises on failure."""
    stream = stt.stream(language=language or NOT_GIVEN, conn_options=conn_options)
    manual_commit = stt.capabilities.manual_flush
    texts: list[str] = []
    lang: str | None = None
    confidences: list[float] = []
    try:
        for chunk in _chunks(audio):
            stream.push_frame(chunk)
        if manual_commit:
            stream.flush()
        else:
            stream.end_input()
        async for ev in stream:
            if ev.type != lk_stt.SpeechEventType.FINAL_TRANSCRIPT or not ev.alternatives:
                continue
            alt = ev.alternatives[0]
            texts.append(alt.text.strip())
            lang = str(alt.language or "") or lang
            if alt.confidence:
                confidences.append(alt.confidence)
            if manual_commit:
                break  # one commit, one final: the socket would otherwise stay open
    finally:
        await stream.aclose()
    if not texts:
        raise NoTranscriptError("the stream ended without a final transcript")
    confidence = sum(confidences) / len(confidences) if confidences else None
    return " ".join(t for t in texts if t), lang, confidence
