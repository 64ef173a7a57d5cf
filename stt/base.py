"""One interface for every speech-to-text provider: transcribe one utterance, or fail with a kind.

The audio chain has already cut the speech into utterances, so every provider answers the same
question: "what was said in this audio?". Providers are livekit-agents `stt.STT` instances (the
plugins, or our own `WhisperSTT`); `SpeechToText` wraps one and picks the route its capabilities
allow: batch `recognize()`, or, for streaming-only providers (AssemblyAI, ElevenLabs realtime), a
short stream per utterance (`streamed.recognize_streamed`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from livekit import rtc
from livekit.agents import NOT_GIVEN, APIConnectionError, APIConnectOptions, APIStatusError, APITimeoutError
from livekit.agents import stt as lk_stt

from .languages import model_languages
from .plausibility import Rules, Signals, judge
from .streamed import NoTranscriptError, recognize_streamed

FailureKind = Literal[
    "error",
    "timeout",
    "connection",
    "no_result",
    "unexpected",
    "language_unsupported",
    "low_confidence",
    "hallucination",
]
"""`error`: the provider answered with an error (HTTP 5xx/4xx, error message on a socket);
`timeout`: no answer within the attempt timeout (includes silent stalls); `connection`: refused or
dropped connection; `no_result`: the provider closed without a transcript; `unexpected`: anything else.
The last three are answers refused as implausible (`stt/plausibility.py`): `language_unsupported`
(another language than the room's), `low_confidence`, `hallucination`."""
REJECTIONS: frozenset[str] = frozenset({"language_unsupported", "low_confidence", "hallucination"})


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str | None
    confidence: float | None
    provider: str
    model: str
    signals: Signals | None = None


class ProviderFailure(Exception):
    """One provider could not transcribe one utterance. `detail` never contains transcript text."""

    def __init__(self, provider: str, kind: FailureKind, detail: str) -> None:
        super().__init__(f"{provider}: {kind}: {detail}")
        self.provider = provider
        self.kind: FailureKind = kind
        self.detail = detail


def classify(exc: BaseException) -> tuple[FailureKind, str]:
    """Map what the plugins raise onto our failure kinds (their messages name no transcript)."""
    if isinstance(exc, APITimeoutError | TimeoutError):
        return "timeout", "no answer within the attempt timeout"
    if isinstance(exc, APIStatusError):
        return "error", f"status {exc.status_code}: {exc.message}"[:300]
    # Some plugins let aiohttp's errors through (AssemblyAI: a refused websocket upgrade).
    response_error = exc if isinstance(exc, aiohttp.ClientResponseError) else exc.__cause__
    if isinstance(response_error, aiohttp.ClientResponseError):
        return "error", f"status {response_error.status}: {response_error.message}"[:300]
    if isinstance(exc, NoTranscriptError):
        return "no_result", str(exc)
    if isinstance(exc, APIConnectionError | aiohttp.ClientError | ConnectionError):
        cause = exc.__cause__ or exc
        return "connection", f"{type(cause).__name__}: {cause}"[:300]
    return "unexpected", f"{type(exc).__name__}: {exc}"[:300]


class SpeechToText:
    """A named provider: one livekit-agents STT plus the route that fits it."""

    def __init__(
        self,
        name: str,
        stt: lk_stt.STT[Any],
        *,
        language: str | None = None,
        room_language: str | None = None,
        rules: Rules | None = None,
    ) -> None:
        self.name = name
        self.stt = stt
        self.language = language or None
        """What the provider is told (ISO 639-1, in its own terms), None: nothing."""
        self.room_language = room_language or None
        """The room's language tag (`pt-BR`): answers reporting another language are refused."""
        self.rules = rules or Rules()
        known = model_languages(name, self.model)
        self.multilingual = known is None or len(known) > 1
        # Streaming plugins (AssemblyAI, ElevenLabs realtime) implement no recognize(): they get a
        # short stream per utterance; everything else gets one batch request.
        self.route: Literal["recognize", "stream"] = "stream" if stt.capabilities.streaming else "recognize"

    @property
    def model(self) -> str:
        return self.stt.model

    async def transcribe(self, audio: rtc.AudioFrame, *, attempt_timeout: float) -> Transcript:
        """Transcribe one utterance or raise `ProviderFailure`. `attempt_timeout` bounds the whole attempt."""
        # livekit's own retries are off: the fallback chain decides what happens after a failure.
        opts = APIConnectOptions(max_retry=0, timeout=attempt_timeout)
        try:
            async with asyncio.timeout(attempt_timeout):
                if self.route == "recognize":
                    ev = await self.stt.recognize(audio, language=self.language or NOT_GIVEN, conn_options=opts)
                    alt = ev.alternatives[0] if ev.alternatives else None
                    if alt is None:
                        raise NoTranscriptError("the provider returned no alternative")
                    text, language = alt.text, str(alt.language or "") or None
                    confidence: float | None = alt.confidence
                    signals = Signals.from_metadata(alt.metadata)
                else:
                    signals = None
                    text, language, confidence = await recognize_streamed(
                        self.stt, audio, language=self.language, conn_options=opts
                    )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            kind, detail = classify(exc)
            raise ProviderFailure(self.name, kind, detail) from exc
        text = (text or "").strip()
        rejection = judge(
            provider=self.name,
            text=text,
            requested_language=self.room_language,
            reported_language=language,
            signals=signals,
            rules=self.rules,
            multilingual=self.multilingual,
        )
        if rejection is not None:
            raise ProviderFailure(self.name, rejection.kind, rejection.detail)
        return Transcript(
            text=text,
            language=language or self.room_language or self.language,
            confidence=confidence if confidence else None,
            provider=self.name,
            model=self.model,
            signals=signals,
        )

    async def aclose(self) -> None:
        await self.stt.aclose()
