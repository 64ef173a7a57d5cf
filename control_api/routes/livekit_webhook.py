"""`POST /livekit/webhook` (seed 002): LiveKit's signed events become sessions.

The `Authorization` header carries a JWT signed with the API secret whose `sha256` claim is the hash of
the exact body bytes; livekit-api's WebhookReceiver checks both against the raw body. Anything that
fails verification is rejected with 401 before a byte is written.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request
from google.protobuf.json_format import ParseError
from livekit import api

from control_api.deps import AppSettings, Metrics, Pool
from control_api.errors import ApiError
from control_api.schemas.common import errors
from control_api.schemas.sessions import WEBHOOK_MEDIA_TYPE, LiveKitWebhookEvent, WebhookAccepted
from control_api.services.video_egress import start_video_egress, wants_video_egress
from control_api.services.webhook_checks import event_problem
from db.sessions import ingest_event

router = APIRouter(tags=["livekit"])
log = logging.getLogger("escuta.api.webhook")


def _receiver(request: Request, settings: AppSettings) -> api.WebhookReceiver:
    # Built once per app: TokenVerifier is cheap, but there is no reason to rebuild it per request.
    cached: api.WebhookReceiver | None = getattr(request.app.state, "webhook_receiver", None)
    if cached is None:
        verifier = api.TokenVerifier(settings.livekit.api_key, settings.livekit.api_secret.get_secret_value())
        cached = api.WebhookReceiver(verifier)
        request.app.state.webhook_receiver = cached
    return cached


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


@router.post("/livekit/webhook", responses=errors(400, 401), openapi_extra=_WEBHOOK_OPENAPI)
async def livekit_webhook(request: Request, settings: AppSettings, pool: Pool, metrics: Metrics) -> WebhookAccepted:
    auth = request.headers.get("authorization")
    if not auth:
        metrics.webhook_events.labels("unknown", "rejected").inc()
        raise ApiError(401, "unauthorized", "missing Authorization header")
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        metrics.webhook_events.labels("unknown", "rejected").inc()
        raise ApiError(400, "invalid_body", "webhook body is not UTF-8") from None
    receiver = _receiver(request, settings)
    # LiveKit sends the bare JWT; accept a "Bearer " prefix too, as some proxies add one.
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else auth.strip()
    try:
        event = receiver.receive(text, token)
    except ParseError:
        metrics.webhook_events.labels("unknown", "rejected").inc()
        raise ApiError(400, "invalid_body", "webhook body is not a LiveKit event") from None
    except Exception as exc:
        # livekit-api raises bare Exception for "hash mismatch" and a missing sha256 claim, PyJWT errors
        # for bad signatures and expiry, binascii errors for a malformed hash: all mean "not from LiveKit".
        metrics.webhook_events.labels("unknown", "rejected").inc()
        log.warning("webhook rejected: %s", type(exc).__name__)
        raise ApiError(401, "invalid_signature", "webhook signature does not match the body") from None
    problem = event_problem(event)
    if problem is not None:
        metrics.webhook_events.labels("unknown", "rejected").inc()
        raise ApiError(400, "invalid_body", problem)
    # Stored under the room's organization (from the /token room registry; None for rooms nobody minted)
    # with row-level security on, like every other application write: one statement, see ingest_event.
    async with pool.acquire() as conn:
        result = await ingest_event(conn, event, raw)
    org_id = result.org_id
    outcome: Literal["stored", "duplicate"] = "duplicate" if result.duplicate else "stored"
    metrics.webhook_events.labels(result.event or "unknown", outcome).inc()
    # Issue 9: a meeting's video tracks are recorded by LiveKit's Egress service (once: not on a retry).
    if not result.duplicate and await wants_video_egress(pool, settings, event, org_id):
        await start_video_egress(settings, event)
    return WebhookAccepted(status=outcome, id=result.event_id)
