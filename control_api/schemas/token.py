"""`POST /token` (seed 003): a LiveKit access token for a room of one of the caller's solutions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from control_api.services.tokens import TokenBody

# Seed 003's README example. Escuta's `clientId` is the caller's organization id (any other is a 403).
TOKEN_BODY_EXAMPLE = {"solution": "AiHelper", "clientId": "123", "userId": "Daniel"}

# The body is read by hand on this hot route (no FastAPI body field), so it is declared here.
TOKEN_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": TokenBody.model_json_schema(),
            "example": TOKEN_BODY_EXAMPLE,
        }
    },
}


class TokenAnswer(BaseModel):
    """Seed 003's answer, plus `url`: where the LiveKit server is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                    "room": "AiHelper-123-Daniel",
                    "identity": "AiHelper-123-Daniel",
                    "apiKey": "APInroTUR7mKwUm",
                    "url": "wss://livekit.example.com.br",
                }
            ]
        }
    )

    token: str = Field(description="The LiveKit access token (JWT): join, publish, subscribe in `room` only.")
    room: str = Field(description="`{solution}-{clientId}-{userId}`.")
    identity: str = Field(description="The participant's identity in the room (the room name, as in seed 003).")
    apiKey: str = Field(description="The LiveKit server's public API key.")
    url: str = Field(description="The LiveKit server's URL.")
