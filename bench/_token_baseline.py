"""The baseline for bench/tokens.py: what seed 003 did (FastAPI + livekit-api AccessToken, no auth, no db)."""

from __future__ import annotations

import os

from fastapi import FastAPI
from livekit import api
from pydantic import BaseModel

KEY, SECRET, URL = os.environ["LIVEKIT_API_KEY"], os.environ["LIVEKIT_API_SECRET"], "ws://127.0.0.1:7880"
app = FastAPI()


class TokenRequest(BaseModel):
    solution: str
    clientId: str  # seed 003's field name
    userId: str  # seed 003's field name


@app.post("/token")
async def token(body: TokenRequest) -> dict[str, str]:
    room = f"{body.solution}-{body.clientId}-{body.userId}"
    jwt = (
        api.AccessToken(KEY, SECRET)
        .with_identity(room)
        .with_name(body.userId)
        .with_grants(api.VideoGrants(room_join=True, room=room))
        .to_jwt()
    )
    return {"token": jwt, "room": room, "identity": room, "apiKey": KEY, "url": URL}
