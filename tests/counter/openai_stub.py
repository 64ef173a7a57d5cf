"""An OpenAI-compatible chat-completions stub on 127.0.0.1, speaking the streaming API like the real one.

``POST /v1/chat/completions`` with ``stream: true`` answers with server-sent events: a role chunk,
content chunks, a ``finish_reason`` chunk, a usage chunk (``stream_options.include_usage``) and
``[DONE]``. ``GET /v1/models`` answers too (the plugin's prewarm calls it). What it answers is chosen
per test with ``mode``:

- ``pick``: a valid answer choosing the candidate ``pick`` (``p1`` by default) or ``nenhum``;
- ``malformed``: content that is not JSON; ``truncated``: JSON cut short with ``finish_reason: length``;
- ``invented``: a product id that was not offered; ``slow``: waits ``delay`` seconds before answering;
- ``error``: HTTP 500 with OpenAI's error body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.local_http import serve


@dataclass
class ChatStub:
    mode: str = "pick"
    pick: str = "p1"
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner, self.port = await serve(app)

    async def stop(self) -> None:
        self._closing.set()  # releases a "slow" handler so shutdown does not wait for it
        if self._runner is not None:
            await self._runner.cleanup()

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "stub-model", "object": "model"}]})

    def _content(self, body: dict[str, Any]) -> tuple[str, str]:
        if self.mode == "malformed":
            return "Claro! Recomendo o p1 porque", "stop"
        if self.mode == "truncated":
            return '{"produto": "p1", "explicacao": "Indicado para', "length"
        choice = "p9" if self.mode == "invented" else self.pick
        answer = {"produto": choice, "explicacao": "Indicado para o que o cliente relatou.", "trecho": ""}
        return json.dumps(answer, ensure_ascii=False), "stop"

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.auth_headers.append(request.headers.get("Authorization", ""))
        if self.mode == "error":
            return web.json_response(
                {"error": {"message": "The server had an error", "type": "server_error", "param": None, "code": None}},
                status=500,
            )
        if self.mode == "slow" or self.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.delay or 30)
        content, finish = self._content(body)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model", "stub-model")}  # fmt: skip

        async def send(payload: dict[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps({**base, **payload})
            await resp.write(f"data: {data}\n\n".encode())

        await send({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        for i in range(0, len(content), 12):  # split like a real stream, mid-token
            piece = content[i : i + 12]
            await send({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        await send({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": 20, "total_tokens": prompt_tokens + 20}
            await send({"choices": [], "usage": usage})
        await send("[DONE]")
        await resp.write_eof()
        return resp
