"""Provider fallback per utterance: the first provider that answers wins; nothing is dropped.

livekit-agents' `stt.FallbackAdapter` does the same for a conversational stream, but it hides which
provider answered and why the others failed. Escuta stores both with every transcript, and counts
failures per provider and kind, so the chain is ours (`livekit_fallback` still builds the livekit
adapter for profiles that want a single streaming STT).

A provider that failed is moved to the back of the order for `cooldown` seconds instead of being
skipped: a dead provider must not add a timeout to every utterance, but an utterance is never lost
while any provider might still answer. An answer refused as implausible (`language_unsupported`,
`low_confidence`, `hallucination`) moves on to the next provider the same way, but puts nobody in
cooldown: the provider is healthy, the audio was the problem (music, silence, another language).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from livekit import rtc
from livekit.agents import stt as lk_stt
from livekit.agents.vad import VAD

from .base import REJECTIONS, ProviderFailure, SpeechToText, Transcript

log = logging.getLogger("escuta.stt")


@dataclass(frozen=True, slots=True)
class Attempt:
    provider: str
    outcome: str  # "ok" or a FailureKind
    detail: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Outcome:
    transcript: Transcript | None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.transcript is not None

    @property
    def provider_seconds(self) -> float:
        """Time the answering provider took (0 when none answered)."""
        return self.attempts[-1].seconds if self.ok else 0.0

    @property
    def failure_reason(self) -> str | None:
        if self.ok:
            return None
        if not self.attempts:
            return "no speech-to-text provider configured"
        return "; ".join(f"{a.provider}: {a.outcome} ({a.detail})" for a in self.attempts)


class FallbackTranscriber:
    def __init__(
        self,
        providers: Sequence[SpeechToText],
        *,
        attempt_timeout: float = 15.0,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.providers = list(providers)
        self.attempt_timeout = attempt_timeout
        self.cooldown = cooldown
        self._clock = clock
        self._down_until: dict[str, float] = {}
        self.stats: Counter[tuple[str, str]] = Counter()
        """Attempts per (provider, outcome): outcome is `ok` or a failure kind."""

    def order(self) -> list[SpeechToText]:
        now = self._clock()
        healthy = [p for p in self.providers if self._down_until.get(p.name, 0.0) <= now]
        cooling = [p for p in self.providers if p not in healthy]
        return healthy + cooling

    async def transcribe(self, audio: rtc.AudioFrame) -> Outcome:
        attempts: list[Attempt] = []
        for provider in self.order():
            t0 = time.perf_counter()
            try:
                transcript = await provider.transcribe(audio, attempt_timeout=self.attempt_timeout)
            except ProviderFailure as f:
                seconds = time.perf_counter() - t0
                attempts.append(Attempt(provider.name, f.kind, f.detail, seconds))
                self.stats[(provider.name, f.kind)] += 1
                rejected = f.kind in REJECTIONS
                if not rejected:
                    self._down_until[provider.name] = self._clock() + self.cooldown
                # A refused answer is about the audio (music, silence), not an incident: info, not warning.
                log.log(
                    logging.INFO if rejected else logging.WARNING,
                    "speech-to-text provider %s %s (%s) after %.2fs: %s",
                    provider.name,
                    "answer refused" if rejected else "failed",
                    f.kind,
                    seconds,
                    f.detail,
                )
                continue
            seconds = time.perf_counter() - t0
            attempts.append(Attempt(provider.name, "ok", "", seconds))
            self.stats[(provider.name, "ok")] += 1
            self._down_until.pop(provider.name, None)
            return Outcome(transcript, attempts)
        self.stats[("*", "all_failed")] += 1
        return Outcome(None, attempts)

    async def aclose(self) -> None:
        for p in self.providers:
            await p.aclose()


def livekit_fallback(providers: Sequence[SpeechToText], *, vad: VAD, attempt_timeout: float) -> lk_stt.FallbackAdapter:
    """The same providers as one livekit-agents streaming STT (batch ones behind a `StreamAdapter`)."""
    return lk_stt.FallbackAdapter(
        [p.stt for p in providers], vad=vad, attempt_timeout=attempt_timeout, max_retry_per_stt=0
    )
