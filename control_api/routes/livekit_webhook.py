"""`POST /livekit/webhook` (seed 002): LiveKit's signed events become sessions.

The `Authorization` header carries a JWT signed with the API secret whose `sha256` claim is the hash of
the exact body bytes; both are checked against the raw body (core/security/webhook_jwt.py checks what
livekit-api's WebhookReceiver does). Anything that fails verification is rejected with 401 before a
byte is written.

Issue 20.3, a busy minute (thousands of events a second): the route is served by :func:`handle`, a plain
Starlette endpoint that :func:`control_api.app.create_app` mounts ahead of FastAPI's routes (no
dependency resolution or response validation per event; the FastAPI route below documents it and runs
the same code). Bodies are read without protobuf (control_api/services/webhook_events.py) and stored in
batches that are committed before any of their requests is answered (services/webhook_batcher.py).
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from starlette.responses import Response

from control_api.errors import ApiError
from control_api.fast_route import FastRoute
from control_api.metrics import ApiMetrics
from control_api.schemas.common import errors
from control_api.schemas.sessions import WEBHOOK_MEDIA_TYPE, LiveKitWebhookEvent, WebhookAccepted
from control_api.services.video_egress import start_video_egress, wants_video_egress
from control_api.services.webhook_batcher import WebhookBatcher
from control_api.services.webhook_events import InvalidWebhookBody, parse_event, protobuf_event
from core.security.webhook_jwt import InvalidWebhookSignature, WebhookVerifier
from core.settings import Settings

router = APIRouter(tags=["livekit"])
log = logging.getLogger("escuta.api.webhook")
PATH = "/livekit/webhook"


def _verifier(state: object, settings: Settings) -> WebhookVerifier:
    cached: WebhookVerifier | None = getattr(state, "webhook_verifier", None)
    if cached is None:
        cached = WebhookVerifier(settings.livekit.api_key, settings.livekit.api_secret.get_secret_value())
        state.webhook_verifier = cached  # type: ignore[attr-defined]
    return cached


def _batcher(state: object) -> WebhookBatcher:
    cached: WebhookBatcher | None = getattr(state, "webhook_batcher", None)
    if cached is None:
        pool = getattr(state, "pool", None)
        if pool is None:
            raise ApiError(503, "database_unavailable", "the database is not connected yet")
        cached = WebhookBatcher(pool)
        state.webhook_batcher = cached  # type: ignore[attr-defined]
    return cached


async def handle(request: Request) -> Response:
    """The webhook, as a bare Starlette endpoint (the hot path: no FastAPI machinery per event)."""
    state = request.app.state
    settings: Settings = state.settings
    metrics: ApiMetrics = state.metrics
    auth = request.headers.get("authorization")
    if not auth:
        metrics.webhook_events.labels("unknown", "rejected").inc()
        raise ApiError(401, "unauthorized", "missing Authorization header")
    raw = await request.body()
    # LiveKit sends the bare JWT; accept a "Bearer " prefix too, as some proxies add one.
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else auth.strip()
    try:
        _verifier(state, settings).verify(token, raw)
    except InvalidWebhookSignature as exc:
        metrics.webhook_events.labels("unknown", "rejected").inc()
        log.warning("webhook rejected: %s", exc)
        raise ApiError(401, "invalid_signature", "webhook signature does not match the body") from None
    try:
        row = parse_event(raw)
    except InvalidWebhookBody as exc:
        metrics.webhook_events.labels("unknown", "rejected").inc()
        raise ApiError(400, "invalid_body", str(exc)) from None
    # Stored under the room's organization (from the /token room registry; None for rooms nobody minted)
    # with row-level security on, like every other application write; answered once committed.
    org_id, stored = await _batcher(state).store(row)
    outcome = "stored" if stored else "duplicate"
    metrics.webhook_events.labels(row.event or "unknown", outcome).inc()
    # Issue 9: a meeting's video tracks are recorded by LiveKit's Egress service (once: not on a retry).
    # Only then is the full protobuf event needed.
    if stored and settings.coach.recordings.video_egress and row.event == "track_published" and org_id:
        event = protobuf_event(row.payload)
        if await wants_video_egress(state.pool, settings, event, org_id):
            await start_video_egress(settings, event)
    return Response(json.dumps({"status": outcome, "id": row.id}, separators=(",", ":")), media_type="application/json")


# Mounted first by create_app: requests reach it without FastAPI's per-request dependency solving.
fast_route = FastRoute(PATH, handle, methods=["POST"])


# The body and the header are read by hand (the signature covers the exact bytes), so declared here.
_WEBHOOK_OPENAPI = {
    "parameters": [
        {
            "name": "Authorization",
            "in": "header",
            "required": True,
            "description": "The JWT LiveKit signs with the API secret (`LIVEKIT_API_SECRET`); its `sha256` claim is "
            "the base64 SHA-256 of the exact body. Sent bare, as LiveKit does; a `Bearer ` prefix is accepted too.",
            "schema": {"type": "string"},
        }
    ],
    "requestBody": {
        "required": True,
        "content": {WEBHOOK_MEDIA_TYPE: {"schema": LiveKitWebhookEvent.model_json_schema()}},
    },
}


@router.post(PATH, responses=errors(400, 401), openapi_extra=_WEBHOOK_OPENAPI, response_model=WebhookAccepted)
async def livekit_webhook(request: Request) -> Response:
    # Documents the webhook (a docstring would land in the OpenAPI document); `fast_route` serves it.
    return await handle(request)
