"""ElevenLabs on 127.0.0.1: the voice lookup and chunked text-to-speech, both with ``xi-api-key``.

``GET /v1/voices/{voice_id}`` answers like the service: 401 for a wrong key, 400 ``voice_not_found``
for an id the account lacks, the voice object otherwise. ``POST /v1/text-to-speech/{voice_id}/stream``
answers raw PCM (``output_format=pcm_24000``): 60 ms of tone per character. Records which keys asked,
so tests can prove whose key was used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from tests.avatar.openai_stub import tone
from tests.local_http import serve


@dataclass
class ElevenLabsVoices:
    key: str
    voices: dict[str, str]  # voice id -> name
    seen_keys: list[str] = field(default_factory=list)
    speech: list[tuple[str, str, str]] = field(default_factory=list)  # (voice id, output format, text)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/voices/{voice_id}", self._voice)
        app.router.add_post("/v1/text-to-speech/{voice_id}/stream", self._speech)
        self._runner, self.port = await serve(app)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _voice(self, request: web.Request) -> web.Response:
        key = request.headers.get("xi-api-key", "")
        self.seen_keys.append(key)
        if key != self.key:
            detail = {"status": "invalid_api_key", "message": "Invalid API key"}
            return web.json_response({"detail": detail}, status=401)
        voice_id = request.match_info["voice_id"]
        if voice_id not in self.voices:
            detail = {"status": "voice_not_found", "message": f"A voice with voice_id {voice_id} was not found."}
            return web.json_response({"detail": detail}, status=400)
        return web.json_response({"voice_id": voice_id, "name": self.voices[voice_id], "category": "premade"})

    async def _speech(self, request: web.Request) -> web.Response:
        key = request.headers.get("xi-api-key", "")
        self.seen_keys.append(key)
        voice_id = request.match_info["voice_id"]
        if key != self.key or voice_id not in self.voices:
            return web.json_response({"detail": {"status": "unauthorized"}}, status=401 if key != self.key else 400)
        body = await request.json()
        output_format = request.query.get("output_format", "")
        self.speech.append((voice_id, output_format, body.get("text", "")))
        return web.Response(body=tone(0.06 * len(body.get("text", ""))), content_type="audio/pcm")
