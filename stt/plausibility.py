"""Is a provider's answer a transcript, or something it invented? Rules applied to every answer.

A speech-to-text model asked about audio it cannot hear (Portuguese to an English-only Whisper,
music, a television, silence) still answers, fluently: "Thank you for watching!", "If you like this
video, please subscribe". Stored as `ok`, that text would be published and read by the profiles
as if someone had said it. So an answer is accepted only when it is plausible; otherwise the attempt
fails with a kind, the next provider is tried, and the utterance is `failed` if none is plausible:

* `language_unsupported`: the provider says it heard another language than the room's; or an
  English-only model answered, and a language check by the multilingual model finds the audio unlikely
  to be English (the only way to catch Portuguese an English-only model turned into fluent English);
* `hallucination`: text Whisper-family models are known to produce on silence and noise (subtitle
  credits, "thanks for watching", music tags), or a repetition loop (compression ratio);
* `low_confidence`: Whisper's own signals say it was guessing (average log-probability under the
  floor, or a high no-speech probability with a middling log-probability).

The thresholds (`Rules`, settings `ESCUTA_STT_PLAUSIBILITY_*`) were chosen on the `tune` half of the
corpus in `bench/language_corpus.py` and are reported on the `holdout` half by `bench/stt_language.py`.
Providers that give no signals (cloud APIs other than Whisper's verbose JSON) are judged on the
language they report and on the phrases.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from core.language import same_language

RejectionKind = Literal["language_unsupported", "low_confidence", "hallucination"]
WHISPER_FAMILY = frozenset({"local", "openai", "openai_compatible"})

# Phrases nobody says at a pharmacy counter or in a meeting, and Whisper-family models write on silence,
# music and noise (they learned them from subtitled videos): anywhere in the answer, it is refused.
INVENTED_PHRASES = (
    "thanks for watching",
    "thank you for watching",
    "thank you so much for watching",
    "thank you very much for watching",
    "please subscribe",
    "like and subscribe",
    "subscribe to my channel",
    "subscribe to the channel",
    "if you like this video",
    "see you in the next video",
    "subtitles by",
    "captions by",
    "transcription by",
    "amara org",
    "obrigado por assistir",
    "obrigada por assistir",
    "inscreva se no canal",
    "se inscreva no canal",
    "ative o sininho",
    "legendas pela comunidade",
    "legenda adriana zanotto",
    "até o próximo vídeo",
)
# Whole answers that are real words people say ("thank you", "obrigado") but also what these models
# write on silence: refused only when Whisper's own signals say there was little speech.
WEAK_PHRASES = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thank you so much",
        "thanks",
        "bye",
        "obrigado",
        "obrigada",
        "muito obrigado",
        "tchau",
        "music",
        "música",
    }
)
_TAG_ONLY = re.compile(r"^\W*(?:[\[(][^\])]*[\])]\W*|[♪♫]\W*)+$")


def _looping(words: str, times: int = 4) -> bool:
    """One to three words said `times` times or more in a row, and nothing else ("e aí e aí e aí e aí"):
    Whisper's loop on noise, too short for the compression ratio to show."""
    w = words.split()
    return any(len(w) >= size * times and len(w) % size == 0 and w == w[:size] * (len(w) // size) for size in (1, 2, 3))


def normalize_text(text: str) -> str:
    """Lower case, letters and digits only, single spaces (accents kept: `música` stays `música`)."""
    t = unicodedata.normalize("NFC", text.lower())
    t = re.sub(r"[^\w\s]", " ", t)
    return " ".join(t.replace("_", " ").split())


@dataclass(frozen=True, slots=True)
class Signals:
    """What a Whisper-family model says about its own answer."""

    avg_logprob: float | None = None  # token-weighted over the answer's segments
    no_speech_prob: float | None = None  # the highest of its segments
    compression_ratio: float | None = None  # the highest of its segments
    temperature: float | None = None  # the highest the decoding needed
    language_probability: float | None = None
    english_probability: float | None = None
    """For an English-only model's answer: the probability that the audio is English, from the language
    check (`stt/language_check.py`); None when the check did not run."""
    unexpected_language_probability: float | None = None
    """Alongside it: the check's probability for its likeliest language when that is neither English nor a
    language the deployment expects (`Rules.expected_languages`), else 0; None when the check did not run."""

    @classmethod
    def of_segments(cls, segments: Sequence[Any], language_probability: float | None = None) -> Signals:
        if not segments:
            return cls(language_probability=language_probability)
        tokens = [max(len(s.tokens), 1) for s in segments]
        logprob = sum(s.avg_logprob * n for s, n in zip(segments, tokens, strict=True)) / sum(tokens)
        return cls(
            avg_logprob=logprob,
            no_speech_prob=max(s.no_speech_prob for s in segments),
            compression_ratio=max(s.compression_ratio for s in segments),
            temperature=max(s.temperature or 0.0 for s in segments),
            language_probability=language_probability,
        )

    @property
    def confidence(self) -> float | None:
        return math.exp(self.avg_logprob) if self.avg_logprob is not None else None

    def as_metadata(self) -> dict[str, Any]:
        return {"whisper": {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}}

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> Signals | None:
        values = (metadata or {}).get("whisper")
        if not isinstance(values, Mapping):
            return None
        return cls(**{k: float(v) for k, v in values.items() if k in cls.__slots__ and v is not None})


@dataclass(frozen=True, slots=True)
class Rules:
    min_avg_logprob: float = -1.0
    """Below this average log-probability an English-only model's answer is a guess (Whisper's own
    fallback threshold): for it, the floor is also what stops another language becoming English words."""
    min_avg_logprob_multilingual: float = -1.6
    """The same for a multilingual model told the room's language: it is less sure of itself on
    Portuguese than tiny.en on English (the corpus' Portuguese sits between -1.5 and -0.3)."""
    no_speech_prob: float = 0.5
    """With a no-speech probability above this ..."""
    no_speech_logprob: float = -0.7
    """... an answer also needs an average log-probability above this."""
    max_compression_ratio: float = 2.4
    """Above this the text repeats itself (Whisper's loop signature)."""
    weak_phrase_no_speech_prob: float = 0.4
    """A stock phrase alone ("thank you") with a no-speech probability above this is refused."""
    min_english_probability: float = 0.4
    """An English-only model's answer whose audio the language check finds less likely English than this
    is another language turned into English words (`language_unsupported`) ..."""
    expected_languages: tuple[str, ...] = ("pt", "es")
    """... unless the check is sure (`unexpected_language_probability`) it is a language nobody is expected to
    speak in the room: Escuta's people speak Portuguese first, and Spanish is its neighbour (and what `base`
    often takes Brazilian Portuguese for). Noisy English is what `base` takes for Swedish or Norwegian."""
    unexpected_language_probability: float = 0.5
    """Sure = the check gives that one language more than this (0.5: more than all the others together;
    1: never, the exception is off)."""
    language_check_below_logprob: float = -0.5
    """The language check runs only on answers with an average log-probability under this: above it,
    English-only models are sure enough that no other language has ever passed (it costs a multilingual
    encoder pass, about as much CPU as the answer itself)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    kind: RejectionKind
    detail: str  # never the transcript text


def judge(
    *,
    provider: str,
    text: str,
    requested_language: str | None,
    reported_language: str | None,
    signals: Signals | None,
    rules: Rules,
    multilingual: bool = False,
) -> Rejection | None:
    """None when the answer is plausible, else why not. An empty answer is plausible: nothing was invented."""
    if not (text or "").strip():
        return None  # nothing was said, and nothing is claimed
    words = normalize_text(text)
    if requested_language and reported_language:
        try:
            same = same_language(requested_language, reported_language)
        except ValueError:
            same = True  # a code Escuta cannot parse is not evidence of another language
        if not same:
            return Rejection("language_unsupported", f"answered in {reported_language}, asked for {requested_language}")
    english = signals.english_probability if signals is not None else None
    unexpected = signals.unexpected_language_probability if signals is not None else None
    misheard_english = unexpected is not None and unexpected > rules.unexpected_language_probability
    if english is not None and english < rules.min_english_probability and not misheard_english:
        return Rejection(
            "language_unsupported",
            f"an English-only model's answer, and the language check finds the audio English with probability "
            f"{english:.2f} < {rules.min_english_probability}",
        )
    if not words:
        return Rejection("hallucination", "no words: punctuation or a non-speech tag only")
    whisper = provider in WHISPER_FAMILY or signals is not None
    if whisper:
        if _TAG_ONLY.match(text or ""):
            return Rejection("hallucination", "a non-speech tag only (music, noise)")
        padded = f" {words} "
        if any(f" {p} " in padded for p in INVENTED_PHRASES):
            return Rejection("hallucination", "a phrase Whisper-family models write on silence and noise")
    if whisper and _looping(words):
        return Rejection("hallucination", "the same few words over and over")
    if signals is None:
        return None
    if signals.compression_ratio is not None and signals.compression_ratio > rules.max_compression_ratio:
        return Rejection("hallucination", f"repetition (compression ratio {signals.compression_ratio:.2f})")
    lp = signals.avg_logprob
    floor = rules.min_avg_logprob_multilingual if multilingual else rules.min_avg_logprob
    if lp is not None and lp < floor:
        return Rejection("low_confidence", f"average log-probability {lp:.2f} < {floor}")
    ns = signals.no_speech_prob
    if ns is not None and ns > rules.no_speech_prob and (lp is None or lp < rules.no_speech_logprob):
        return Rejection("low_confidence", f"no-speech probability {ns:.2f} with log-probability {lp}")
    if words in WEAK_PHRASES and ns is not None and ns > rules.weak_phrase_no_speech_prob:
        return Rejection("hallucination", f"a stock phrase with no-speech probability {ns:.2f}")
    return None
