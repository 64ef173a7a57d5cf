"""The baseline for bench/webhooks.py: a bare FastAPI endpoint that only verifies LiveKit's signature."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request, Response
from livekit import api

receiver = api.WebhookReceiver(api.TokenVerifier(os.environ["LIVEKIT_API_KEY"], os.environ["LIVEKIT_API_SECRET"]))
app = FastAPI()


@app.post("/livekit/webhook")
async def webhook(request: Request) -> Response:
    body = (await request.body()).decode()
    try:
        receiver.receive(body, request.headers.get("authorization", ""))
    except Exception:
        return Response(status_code=401)
    return Response(status_code=200)
