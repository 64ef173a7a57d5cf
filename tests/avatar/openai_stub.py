"""An OpenAI-compatible stub on 127.0.0.1 for the avatar: streaming chat completions and speech.

Chat (``POST /v1/chat/completions``, server-sent events with a usage chunk) answers from ``replies``:
the first key found (case-insensitive) in the last user message picks the reply, else ``default``.
Speech (``POST /v1/audio/speech``) answers raw PCM s16le mono 24 kHz (``Content-Type: audio/pcm``),
a 220 Hz tone of 60 ms per character, so the avatar receives real, measurable audio.
``chunk_delay`` spaces the chat chunks out, so a reply can still be streaming when a test interrupts it.
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.local_http import serve


def tone(seconds: float, rate: int = 24000) -> bytes:
    n = int(seconds * rate)
    return struct.pack(f"<{n}h", *(int(8000 * math.sin(2 * math.pi * 220 * i / rate)) for i in range(n)))


@dataclass
class OpenAIStub:
    replies: dict[str, str] = field(default_factory=dict)
    default: str = "Olá! Como posso ajudar?"
    chunk_delay: float = 0.0
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    speech_requests: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/audio/speech", self._speech)
        app.router.add_get("/v1/models", self._models)
        self._runner, self.port = await serve(app)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "stub-model", "object": "model"}]})

    def reply_to(self, body: dict[str, Any]) -> str:
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        content = users[-1].get("content", "") if users else ""
        text = content if isinstance(content, str) else " ".join(str(p.get("text", "")) for p in content)
        for key, reply in self.replies.items():
            if key.lower() in text.lower():
                return reply
        return self.default

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.chat_requests.append(body)
        self.auth.append(request.headers.get("Authorization", ""))
        content = self.reply_to(body)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()), "model": "stub"}

        async def send(payload: dict[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps({**base, **payload})
            await resp.write(f"data: {data}\n\n".encode())

        await send({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        for i in range(0, len(content), 16):
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            delta = {"content": content[i : i + 16]}
            try:
                await send({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            except ConnectionResetError:  # the client stopped reading: an interrupted reply
                return resp
        await send({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        usage = {
            "prompt_tokens": 40,
            "completion_tokens": len(content.split()),
            "total_tokens": 40 + len(content.split()),
        }
        await send({"choices": [], "usage": usage})
        await send("[DONE]")
        await resp.write_eof()
        return resp

    async def _speech(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.speech_requests.append(body)
        self.auth.append(request.headers.get("Authorization", ""))
        return web.Response(body=tone(0.06 * len(body.get("input", ""))), content_type="audio/pcm")
