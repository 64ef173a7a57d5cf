"""The control API's routers, one module per resource, grouped by feature.

- ``token``: `POST /token` (seed 003); ``health``, ``metrics``, ``livekit_webhook``, ``sessions``;
- ``accounts/``: auth, members, `/cadastro` (seed 001), devices and keys, provider credentials, solutions,
  the organization's language; ``stt_health``: `/health/stt`;
- ``transcription``: transcripts and `POST /stt`; ``recordings``: a session's WAV files;
- ``counter/``: catalog and the Excel export (seed 001);
- ``coach``: `/feedback` (seed 002); ``clips/``: bursts, monitoring presets, streamers (seed 004);
- ``avatar/``: configuration, media triggers, `GET /new`, credits (seed 000).

``console/`` (the web console, issue 16) is outside the OpenAPI document and included by the app factory.
"""

from __future__ import annotations

from fastapi import APIRouter

from control_api.routes import (
    coach,
    health,
    livekit_webhook,
    metrics,
    recordings,
    sessions,
    stt_health,
    token,
    transcription,
)
from control_api.routes.accounts import (
    auth,
    cadastro,
    credentials,
    devices,
    invitations,
    members,
    organization,
    solutions,
)
from control_api.routes.accounts import language as org_language
from control_api.routes.avatar import config as avatar_config
from control_api.routes.avatar import credits as avatar_credits
from control_api.routes.avatar import session as avatar_session
from control_api.routes.avatar import triggers as avatar_triggers
from control_api.routes.clips import bursts, monitoring, streams
from control_api.routes.counter import catalog, device_socket, export, export_jobs

# `/token` first: it is the hottest route, and routes are matched in order.
ROUTERS: tuple[APIRouter, ...] = (
    token.router,
    health.router,
    stt_health.router,
    metrics.router,
    livekit_webhook.router,
    sessions.router,
    auth.router,
    cadastro.router,
    credentials.router,
    devices.router,
    members.router,
    invitations.router,
    solutions.router,
    org_language.router,
    organization.router,
    transcription.router,
    recordings.router,
    catalog.router,
    export.router,
    export_jobs.router,
    device_socket.router,
    coach.router,
    bursts.router,
    monitoring.router,
    streams.router,
    avatar_config.router,
    avatar_triggers.router,
    avatar_session.router,
    avatar_credits.router,
)
