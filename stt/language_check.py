"""Is this English? A language check on what an English-only Whisper model heard.

An English-only model (`tiny.en`) has no way to say "this is not English": given Portuguese it writes
English, and about one Portuguese utterance in ten comes back as fluent English with signals as good as
real English's ("or if I can look at it at all, no peeks", average log-probability −0.65). Only another
model can tell: the multilingual Whisper of the `local-stt` extra (`base`) identifies the language from
its encoder in one pass (`faster_whisper.WhisperModel.detect_language`), and its probability of English
separates the two (`bench/stt_language.py` measures it).

That pass costs about as much CPU as the answer itself (a full 30 s encoder window of `base`), so it runs
only when it can change the verdict: on a non-empty answer the other rules accept, whose average
log-probability is under `Rules.language_check_below_logprob` (English-only models that sure of
themselves have never been another language on the corpus). The probability travels in the answer's
`Signals.english_probability`; `plausibility.judge` refuses the answer as `language_unsupported` when it
is under `Rules.min_english_probability`, unless the check is sure of one language neither English nor
expected in the deployment (`Signals.unexpected_language_probability`, `Rules.expected_languages`): on
the tune half of the corpus that is noisy English `base` takes for Swedish (0.72), while the Portuguese
it lets through tiny.en comes out of `base` as no language in particular (at most 0.21 for any one).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .plausibility import Rules, Signals, judge

log = logging.getLogger("escuta.stt")


@dataclass
class LanguageCheck:
    """The multilingual model that checks an English-only model's answers, and what the checks cost."""

    model: Any  # a multilingual faster_whisper.WhisperModel
    rules: Rules
    checks: int = 0
    cpu_seconds: float = 0.0  # the process's CPU time during the checks (CTranslate2 computes in its own threads)
    wall_seconds: float = 0.0
    last: dict[str, float] | None = None  # the last check's five likeliest languages (for the benchmark)

    def needed(self, text: str, signals: Signals) -> bool:
        """Whether the check could change the verdict: the answer would otherwise be accepted, uncertainly."""
        lp = signals.avg_logprob
        if not text.strip() or lp is None or lp >= self.rules.language_check_below_logprob:
            return False
        verdict = judge(
            provider="local",
            text=text,
            requested_language="en",
            reported_language="en",
            signals=signals,
            rules=self.rules,
        )
        return verdict is None

    def english_probability(self, audio: np.ndarray[Any, np.dtype[np.float32]]) -> float:
        return self.probabilities(audio)[0]

    def probabilities(self, audio: np.ndarray[Any, np.dtype[np.float32]]) -> tuple[float, float]:
        """P(English), and the probability of the likeliest language if it is neither English nor expected
        (`Rules.expected_languages`), else 0."""
        c0, w0 = time.process_time(), time.perf_counter()
        _, _, probabilities = self.model.detect_language(audio)
        self.checks += 1
        self.cpu_seconds += time.process_time() - c0
        self.wall_seconds += time.perf_counter() - w0
        self.last = {code: round(float(p), 3) for code, p in sorted(probabilities, key=lambda x: -x[1])[:5]}
        top, p_top = max(probabilities, key=lambda x: x[1])
        unexpected = 0.0 if top == "en" or top in self.rules.expected_languages else float(p_top)
        return float(dict(probabilities).get("en", 0.0)), unexpected

    def apply(self, audio: np.ndarray[Any, np.dtype[np.float32]], text: str, signals: Signals) -> Signals:
        """`signals` with the English probability when the check was needed (runs in the caller's thread)."""
        if not self.needed(text, signals):
            return signals
        english, unexpected = self.probabilities(audio)
        return replace(signals, english_probability=english, unexpected_language_probability=unexpected)
