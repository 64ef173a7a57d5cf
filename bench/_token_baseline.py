"""The baseline for bench/tokens.py: seed 003's endpoint (no auth, no database), tuned like Escuta's route.

Issue 20.4: an honest baseline uses the same fast pieces Escuta does, so the ratio measures only what
Escuta adds (the credential, tenancy, the solution's profile, the room registry, the dispatch and its
middleware): the same uvicorn + FastAPI stack, the body read by hand into the same pydantic model, the
same hand-built HS256 signer (control_api.services.tokens.sign_hs256, not livekit-api's slower
``AccessToken.to_jwt``) with the same claims, and the same answer model serialized the same way.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from fastapi import FastAPI, Request, Response

from control_api.cors import LeanCORSMiddleware
from control_api.fast_route import FastRoute
from control_api.schemas.token import TokenAnswer
from control_api.services.tokens import TokenBody, sign_hs256

KEY, SECRET, URL = os.environ["LIVEKIT_API_KEY"], os.environ["LIVEKIT_API_SECRET"], "ws://127.0.0.1:7880"
TTL = 3600
SEED_ORIGINS = r"^https:\/\/.*\.aivoice\.com\.br$"  # seed 003's README, "CORS"


def _with_cors(app: FastAPI) -> FastAPI:
    app.add_middleware(LeanCORSMiddleware, allow_origin_regex=SEED_ORIGINS, allow_methods=["POST"], allow_headers=["*"])
    return app


async def token(request: Request) -> Response:
    body = TokenBody.model_validate_json(await request.body())
    room = f"{body.solution}-{body.clientId}-{body.userId}"
    now = int(time.time())
    claims: dict[str, Any] = {
        "name": body.userId,
        "metadata": json.dumps({"roles": ["device"], "name": body.userId}, separators=(",", ":")),
        "video": {
            "roomJoin": True,
            "room": room,
            "canPublish": True,
            "canSubscribe": True,
            "canPublishData": True,
            "canUpdateOwnMetadata": False,
        },
        "attributes": {"escuta.solution": body.solution},
        "sub": room,
        "iss": KEY,
        "nbf": now,
        "exp": now + TTL,
        "roomConfig": {"agents": [{"agentName": "escuta", "metadata": json.dumps({"profile": "balcao"})}]},
    }
    answer = TokenAnswer(token=sign_hs256(claims, SECRET), room=room, identity=room, apiKey=KEY, url=URL)
    return Response(answer.model_dump_json(), media_type="application/json")


app = _with_cors(FastAPI())
app.post("/token")(token)
fast_app = _with_cors(FastAPI())
fast_app.router.routes.insert(0, FastRoute("/token", token, methods=["POST"]))
