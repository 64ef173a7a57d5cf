"""One aiohttp server on 127.0.0.1 that answers like ElevenLabs, OpenAI and AssemblyAI speech-to-text.

Routes (see shared/reference/providers.md):

* ElevenLabs batch     ``POST /v1/speech-to-text`` (multipart, ``xi-api-key``)
* ElevenLabs realtime  ``GET  /v1/speech-to-text/realtime`` (websocket: ``session_started``,
  ``input_audio_chunk`` in, ``partial_transcript`` / ``committed_transcript[_with_timestamps]`` out)
* OpenAI               ``POST /v1/audio/transcriptions`` (multipart, ``Authorization: Bearer``)
* AssemblyAI v3        ``GET  /v3/ws`` (websocket: ``Begin``, binary PCM in, ``Turn``, ``Terminate`` →
  ``Termination`` → close 1000; raw ``Authorization`` key)

The transcript of a request is ``transcript_for(provider, seconds)`` (default: "<provider> heard N.N
seconds"), so a test can tell which provider answered and that it got the whole utterance.

Languages, checked in each provider's own terms (a request a real API would refuse is refused):

* ElevenLabs (batch form field / realtime query) ``language_code``: ISO 639-1 or 639-3 (`pt`, `por`),
  never a region tag (`pt-BR` is a 422 / a refused upgrade); the answer's ``language_code`` is 639-3
  (batch, with ``language_probability``) or as sent (realtime);
* OpenAI ``language`` (ISO 639-1 only, else 400 as OpenAI answers) or, for ``gpt-transcribe``,
  ``languages[]`` (refused on other models); the answer carries ``languages`` (gpt-transcribe) or
  ``language`` as an English name (``whisper-1`` verbose JSON);
* AssemblyAI ``speech_model`` must be one the API knows; ``language_codes`` (a JSON list of ISO 639-1
  codes) only on the Universal-3 Pro family (else close 3006); each ``Turn`` carries ``language_code``:
  always ``en`` on the English model, else the language heard (with ``language_confidence``).

What the stub "hears" is ``spoken_language`` (default ``en``); ``answer_language[provider]`` makes one
provider report another language than it was asked for (a wrong-language answer).

Failure modes, set per provider at run time with ``fail(provider, mode)``:

* ``http500``  batch: 500 with an error body; websocket: the upgrade answered with 500
* ``timeout``  no answer at all: the request (or the upgrade) hangs until the stub stops
* ``close``    the connection is dropped: batch before any response, websocket after the first audio
* ``stall``    the exchange starts (headers sent / session started) and then goes silent
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

from tests.local_http import serve

FailureMode = Literal["http500", "timeout", "close", "stall"]
FAILURE_MODES: tuple[FailureMode, ...] = ("http500", "timeout", "close", "stall")
Provider = Literal["elevenlabs", "elevenlabs_realtime", "openai", "assemblyai"]


ISO3 = {"pt": "por", "en": "eng", "es": "spa", "fr": "fra", "de": "deu", "it": "ita"}
ENGLISH_NAMES = {"pt": "portuguese", "en": "english", "es": "spanish", "fr": "french", "de": "german", "it": "italian"}
ASSEMBLYAI_MODELS = {
    "universal-streaming-english",
    "universal-streaming-multilingual",
    "u3-rt-pro",
    "universal-3-5-pro",
    "universal-3-6",
    "universal-3-6-pro",
    "whisper-rt",
}
ISO_639_1 = re.compile(r"^[a-z]{2}$")
ISO_639_1_OR_3 = re.compile(r"^[a-z]{2,3}$")


@dataclass
class Call:
    provider: str
    authorized: bool
    params: dict[str, str] = field(default_factory=dict)
    audio_seconds: float = 0.0
    failed_with: str | None = None
    language: str | None = None  # the language parameter as received, in the provider's own terms
    language_error: str | None = None  # why the stub refused that parameter
    answered_language: str | None = None


def default_transcript(provider: str, seconds: float) -> str:
    return f"{provider} heard {seconds:.1f} seconds"


class SttStubServer:
    def __init__(self, *, keys: dict[str, str] | None = None) -> None:
        self.keys = keys or {"elevenlabs": "el-key", "openai": "oa-key", "assemblyai": "aai-key"}
        self.calls: list[Call] = []
        self.failures: dict[str, FailureMode] = {}
        self.transcript_for: Callable[[str, float], str] = default_transcript
        self.spoken_language = "en"
        self.answer_language: dict[str, str] = {}
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> SttStubServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/speech-to-text", self._elevenlabs_batch)
        app.router.add_get("/v1/speech-to-text/realtime", self._elevenlabs_realtime)
        app.router.add_post("/v1/audio/transcriptions", self._openai)
        app.router.add_get("/v3/ws", self._assemblyai)
        self._runner, self.port = await serve(app, handle_signals=False, shutdown_timeout=0.5)
        return self

    async def stop(self) -> None:
        self._release.set()  # unblock every hanging handler
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def fail(self, provider: str, mode: FailureMode | None) -> None:
        if mode is None:
            self.failures.pop(provider, None)
        else:
            self.failures[provider] = mode

    def reset(self) -> None:
        self.calls.clear()
        self.failures.clear()
        self.transcript_for = default_transcript
        self.spoken_language = "en"
        self.answer_language.clear()

    def calls_of(self, provider: str) -> list[Call]:
        return [c for c in self.calls if c.provider == provider]

    def heard(self, provider: str, requested: str | None) -> str:
        """The ISO 639-1 language a provider reports: forced per provider, else what it was told, else
        what was spoken (a provider told a language transcribes in it)."""
        return self.answer_language.get(provider) or (requested[:2] if requested else self.spoken_language)

    # --- shared failure handling ---------------------------------------------------------------------

    async def _hang(self) -> None:
        await self._release.wait()

    async def _batch_failure(self, request: web.Request, call: Call) -> web.StreamResponse | None:
        mode = self.failures.get(call.provider)
        if mode is None:
            return None
        call.failed_with = mode
        if mode == "http500":
            return web.json_response({"detail": {"status": "internal_error", "message": "stub failure"}}, status=500)
        if mode == "timeout":
            await self._hang()
            return web.Response(status=504)
        if mode == "close":
            assert request.transport is not None
            request.transport.abort()
            await self._hang()
            return web.Response(status=500)
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await resp.prepare(request)  # headers out, then silence
        await self._hang()
        return resp

    async def _ws_upgrade_failure(self, provider: str, call: Call) -> web.StreamResponse | None:
        mode = self.failures.get(provider)
        if mode == "http500":
            call.failed_with = mode
            return web.json_response({"error": "stub failure"}, status=500)
        if mode == "timeout":
            call.failed_with = mode
            await self._hang()
            return web.Response(status=504)
        return None

    # --- ElevenLabs ----------------------------------------------------------------------------------

    async def _elevenlabs_batch(self, request: web.Request) -> web.StreamResponse:
        call = Call("elevenlabs", request.headers.get("xi-api-key") == self.keys["elevenlabs"])
        self.calls.append(call)
        form = await request.post()
        call.params = {k: str(v) for k, v in form.items() if k != "file"}
        call.params.update(request.query)
        if not call.authorized:
            return web.json_response({"detail": {"status": "invalid_api_key", "message": "bad key"}}, status=401)
        if "model_id" not in form:
            return web.json_response({"detail": [{"msg": "model_id is required"}]}, status=422)
        call.language = str(form["language_code"]) if "language_code" in form else None
        if call.language is not None and not ISO_639_1_OR_3.match(call.language):
            call.language_error = "language_code is not ISO 639-1/3"
            return web.json_response(
                {"detail": [{"loc": ["body", "language_code"], "msg": call.language_error}]}, status=422
            )
        if (failure := await self._batch_failure(request, call)) is not None:
            return failure
        upload = form["file"]
        assert isinstance(upload, web.FileField)
        call.audio_seconds = _wav_seconds(upload.file.read())
        text = self.transcript_for(call.provider, call.audio_seconds)
        words = _words(text, call.audio_seconds)
        call.answered_language = self.heard(call.provider, call.language)
        return web.json_response(
            {
                "language_code": ISO3.get(call.answered_language, call.answered_language),
                "language_probability": 0.98,
                "text": text,
                "words": [dict(w, type="word", speaker_id="speaker_0", logprob=-0.05) for w in words],
                "transcription_id": uuid.uuid4().hex,
                "audio_duration_secs": call.audio_seconds,
            }
        )

    async def _elevenlabs_realtime(self, request: web.Request) -> web.StreamResponse:
        call = Call("elevenlabs_realtime", request.headers.get("xi-api-key") == self.keys["elevenlabs"])
        call.params = dict(request.query)
        call.language = request.query.get("language_code")
        self.calls.append(call)
        if not call.authorized:
            return web.json_response({"detail": {"status": "invalid_api_key", "message": "bad key"}}, status=401)
        if call.language is not None and not ISO_639_1_OR_3.match(call.language):
            call.language_error = "language_code is not ISO 639-1/3"
            return web.json_response(
                {"detail": {"status": "invalid_request", "message": call.language_error}}, status=422
            )
        if (failure := await self._ws_upgrade_failure(call.provider, call)) is not None:
            return failure
        mode = self.failures.get(call.provider)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sample_rate = int(request.query.get("audio_format", "pcm_16000").removeprefix("pcm_"))
        await ws.send_json(
            {
                "message_type": "session_started",
                "session_id": uuid.uuid4().hex,
                "config": {
                    "sample_rate": sample_rate,
                    "model_id": request.query.get("model_id"),
                    "commit_strategy": request.query.get("commit_strategy", "manual"),
                },
            }
        )
        samples = 0
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data.get("message_type") != "input_audio_chunk":
                await ws.send_json({"message_type": "input_error", "error": "unknown message"})
                continue
            chunk = base64.b64decode(data.get("audio_base_64", ""))
            samples += len(chunk) // 2
            if chunk and mode in ("close", "stall"):
                call.failed_with = mode
                if mode == "close":
                    assert request.transport is not None
                    request.transport.abort()
                    return ws
                await self._hang()
                return ws
            if data.get("commit"):
                seconds = samples / sample_rate
                call.audio_seconds += seconds
                samples = 0
                text = self.transcript_for(call.provider, seconds)
                await ws.send_json({"message_type": "partial_transcript", "text": text.split(" ")[0]})
                await ws.send_json({"message_type": "committed_transcript", "text": text})
                call.answered_language = self.heard(call.provider, call.language)
                await ws.send_json(
                    {
                        "message_type": "committed_transcript_with_timestamps",
                        "text": text,
                        "language_code": call.answered_language,
                        "words": [dict(w, type="word", speaker_id=None, logprob=-0.1) for w in _words(text, seconds)],
                    }
                )
        return ws

    # --- OpenAI --------------------------------------------------------------------------------------

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        call = Call("openai", request.headers.get("Authorization") == f"Bearer {self.keys['openai']}")
        self.calls.append(call)
        form = await request.post()
        call.params = {k: str(v) for k, v in form.items() if k != "file"}
        if not call.authorized:
            err = {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}
            return web.json_response({"error": err}, status=401)
        if (failure := await self._batch_failure(request, call)) is not None:
            return failure
        upload = form.get("file")
        if not isinstance(upload, web.FileField) or "model" not in form:
            return web.json_response({"error": {"message": "file and model are required"}}, status=400)
        model = str(form["model"])
        many = [str(v) for v in form.getall("languages[]", [])]
        single = str(form["language"]) if "language" in form else None
        call.language = ",".join(many) if many else single
        if many and not model.startswith("gpt-transcribe"):
            call.language_error = f"languages is not supported by {model}"
        elif any(not ISO_639_1.match(code) for code in [*many, *([single] if single else [])]):
            call.language_error = (
                f"Invalid language '{call.language}'. Language parameter must be specified in ISO-639-1 format."
            )
        if call.language_error:
            bad = {"message": call.language_error, "type": "invalid_request_error", "param": "language"}
            return web.json_response({"error": bad}, status=400)
        call.audio_seconds = _wav_seconds(upload.file.read())
        text = self.transcript_for(call.provider, call.audio_seconds)
        call.answered_language = self.heard(call.provider, many[0] if many else single)
        if form.get("response_format") == "verbose_json":
            return web.json_response(
                {
                    "language": ENGLISH_NAMES.get(call.answered_language, call.answered_language),
                    "duration": call.audio_seconds,
                    "text": text,
                    "segments": [],
                    "words": [],
                }
            )
        body: dict[str, Any] = {"text": text, "usage": {"type": "duration", "seconds": round(call.audio_seconds)}}
        if model.startswith("gpt-transcribe"):
            body["languages"] = [{"code": call.answered_language}]
        return web.json_response(body)

    # --- AssemblyAI ----------------------------------------------------------------------------------

    async def _assemblyai(self, request: web.Request) -> web.StreamResponse:
        # The key goes raw in Authorization, with no "Bearer" (a classic integration mistake).
        call = Call("assemblyai", request.headers.get("Authorization") == self.keys["assemblyai"])
        call.params = dict(request.query)
        self.calls.append(call)
        if (failure := await self._ws_upgrade_failure(call.provider, call)) is not None:
            return failure
        mode = self.failures.get(call.provider)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if not call.authorized:
            await ws.close(code=4001, message=b"Not Authorized")
            return ws
        sample_rate = int(request.query.get("sample_rate", "0"))
        if sample_rate <= 0:
            await ws.close(code=4000, message=b"invalid sample rate")
            return ws
        model = request.query.get("speech_model", "universal-streaming-english")
        codes_param = request.query.get("language_codes")
        call.language = codes_param
        codes: list[str] = json.loads(codes_param) if codes_param else []
        if model not in ASSEMBLYAI_MODELS:
            call.language_error = f"unknown speech_model {model}"
        elif codes and not model.startswith(("u3-", "universal-3")):
            call.language_error = "language_codes is only supported by the Universal-3 Pro models"
        elif any(not isinstance(c, str) or not ISO_639_1.match(c) for c in codes):
            call.language_error = "language_codes must be ISO 639-1 codes"
        if call.language_error:
            await ws.close(code=3006, message=call.language_error.encode())
            return ws
        english_model = model == "universal-streaming-english"
        call.answered_language = "en" if english_model else self.heard(call.provider, codes[0] if codes else None)
        await ws.send_json({"type": "Begin", "id": str(uuid.uuid4()), "expires_at": 1_900_000_000})
        samples, turn = 0, 0
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                samples += len(msg.data) // 2
                if mode in ("close", "stall"):
                    call.failed_with = mode
                    if mode == "close":
                        assert request.transport is not None
                        request.transport.abort()
                        return ws
                    await self._hang()
                    return ws
                continue
            if msg.type != WSMsgType.TEXT:
                continue
            kind = json.loads(msg.data).get("type")
            if kind in ("ForceEndpoint", "Terminate") and samples:
                seconds = samples / sample_rate
                call.audio_seconds += seconds
                text = self.transcript_for(call.provider, seconds)
                await ws.send_json(_turn(turn, text, seconds, call.answered_language or "en", english_model))
                turn, samples = turn + 1, 0
            if kind == "Terminate":
                await ws.send_json(
                    {
                        "type": "Termination",
                        "audio_duration_seconds": round(call.audio_seconds),
                        "session_duration_seconds": round(call.audio_seconds) + 1,
                    }
                )
                await ws.close(code=1000)
                break
        return ws


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        return float(w.getnframes() / w.getframerate())


def _words(text: str, seconds: float) -> list[dict[str, Any]]:
    parts = text.split()
    step = seconds / max(len(parts), 1)
    return [{"text": p, "start": round(i * step, 3), "end": round((i + 1) * step, 3)} for i, p in enumerate(parts)]


def _turn(order: int, text: str, seconds: float, language: str, english_model: bool) -> dict[str, Any]:
    words = [
        {
            "start": int(w["start"] * 1000),
            "end": int(w["end"] * 1000),
            "text": w["text"],
            "confidence": 0.9,
            "word_is_final": True,
        }
        for w in _words(text, seconds)
    ]
    return {
        "type": "Turn",
        "turn_order": order,
        "turn_is_formatted": False,
        "end_of_turn": True,
        "transcript": text,
        "end_of_turn_confidence": 1.0,
        "words": words,
        "utterance": "",
        "language_code": language,
        # Only a model that detects the language scores it (the English model does not).
        **({} if english_model else {"language_confidence": 0.97}),
    }
