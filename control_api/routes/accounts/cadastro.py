"""Client and device provisioning (seed 001's contract, payloads and answers kept exactly).

Link-code policy: a code is valid for ``ESCUTA_LINK_CODE_TTL`` (24 h) and registers up to
``ESCUTA_LINK_CODE_MAX_DEVICES`` devices; then it is used up and an org admin issues a new one
(``POST /cadastro/codigo``). A million codes is a small space, so guessing is throttled three ways, in
PostgreSQL so every API process shares the counts: attempts per source address, wrong attempts per
source and per code value, and wrong attempts platform-wide (what bounds a botnet: the chance of
guessing one live code in its lifetime is computed in docs/security/invitations-and-rate-limits.md).
Every wrong attempt is logged with its source and a masked code.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from control_api.abuse import client_address, rate_limited, shared_limiter
from control_api.deps import AppSettings, OrgAdmin, PlatformAdmin, Pool, bearer_token
from control_api.errors import ApiError
from control_api.membership import current_role
from control_api.principals import user_from_token
from control_api.schemas.accounts import BalcaoBody, BalcaoRegistered, ClienteBody, ClienteCreated, LinkCode
from control_api.schemas.common import errors
from control_api.services.client_setup import COUNTER_SOLUTION, invite_owner
from control_api.services.invitations import deliver
from core.language import normalize
from core.security.ratelimit import RateLimited
from db import accounts, devices, solutions
from db.ratelimit import Reservation
from db.tenancy import tenant_connection

router = APIRouter(prefix="/cadastro", tags=["cadastro"])
log = logging.getLogger("escuta.api.cadastro")


def _generated_client_id() -> str:
    return str(10_000_000 + secrets.randbelow(90_000_000))  # 8 digits, like the seed's numeric ids


@router.post("/cliente", responses=errors(409))
async def cadastro_cliente(
    body: ClienteBody, _admin: PlatformAdmin, pool: Pool, settings: AppSettings
) -> ClienteCreated:
    """Create a client organization ready for its pharmacy (platform admin only): its first link code,
    its client id, and its counter solution `balcao`, so its devices can get room tokens at once."""
    org_id = uuid.uuid4()
    client_id = body.client_id
    async with tenant_connection(pool, org_id) as conn:
        for _attempt in range(5):
            if await accounts.create_org(
                conn,
                org_id,
                body.razao_social,
                email=body.email,
                phone=body.telefone,
                client_id=client_id or _generated_client_id(),
                language=normalize(body.idioma),
            ):
                break
            if client_id is not None:
                raise ApiError(409, "client_id_taken", "another organization already has this client id")
        else:  # five generated ids taken in a row: not chance
            raise ApiError(409, "client_id_taken", "could not generate a free client id; pass client_id")
        org = await accounts.get_org(conn, org_id)
        assert org is not None
        await solutions.put_solution(conn, org_id, COUNTER_SOLUTION, "counter")
        code = await devices.create_link_code(
            conn, org_id, ttl=settings.link_code.ttl, max_devices=settings.link_code.max_devices
        )
        invitation = await invite_owner(conn, settings, org_id, body.email)
    sent = await deliver(settings, invitation, body.razao_social)
    return ClienteCreated(
        codigo=code,
        organization_id=org_id,
        client_id=org["client_id"],
        solution=COUNTER_SOLUTION,
        invitation=invitation.answer(sent=sent),
    )


@router.post("/codigo", status_code=201)
async def new_link_code(admin: OrgAdmin, pool: Pool, settings: AppSettings) -> LinkCode:
    """A new link code for the caller's organization (when the first one expired or was used up)."""
    async with tenant_connection(pool, admin.org_id) as conn:
        code = await devices.create_link_code(
            conn, admin.org_id, ttl=settings.link_code.ttl, max_devices=settings.link_code.max_devices
        )
    return LinkCode(codigo=code, ttlSeconds=settings.link_code.ttl, maxDevices=settings.link_code.max_devices)


def _masked(code: str) -> str:
    return code[:2] + "****"


async def _admin_org(request: Request) -> uuid.UUID | None:
    """The organization of an owner/admin signed in on this request, if one is (the bypass below)."""
    token = bearer_token(request)
    if token is None:
        return None
    try:  # seed 001's route takes no credential: anything else in the header is ignored, as before
        user = user_from_token(request.app.state.settings, token)
        if user.org_id is None:
            return None
        role = await current_role(request, user.org_id, user.user_id)
    except ApiError:
        return None
    return user.org_id if role in ("owner", "admin") else None


@router.post("/balcao", responses=errors(429))
async def cadastro_balcao(body: BalcaoBody, request: Request, pool: Pool, settings: AppSettings) -> BalcaoRegistered:
    """Register a device with a link code; its API key is in this answer and nowhere else, ever.

    Under a guessing attack the platform-wide budget of wrong codes runs out and anonymous registrations
    wait (429); an owner or admin of the code's organization may still register with their access token
    (`Authorization: Bearer`): such a request can only match its own organization's codes, so it guesses
    nothing and is not charged to, nor stopped by, the platform-wide budget.
    """
    rl = shared_limiter(request)
    source = client_address(request)
    code = body.user_codigo
    admin_org = await _admin_org(request)
    # Failure budgets are spent before the code is judged and given back if it was right: checking
    # first and counting after would let a burst of concurrent guesses all pass (db/ratelimit.py).
    budgets: list[tuple[str, str, tuple[str, ...]]] = [
        (settings.rate_limit.link_code_failures, "linkcode:fail:source", (source,)),
        (settings.rate_limit.link_code_failures, "linkcode:fail:code", (code,)),
    ]
    if admin_org is None:
        budgets.append((settings.rate_limit.link_code_global_failures, "linkcode:fail:global", ()))
    reserved: list[Reservation] = []
    try:
        await rl.hit(settings.rate_limit.link_code, "linkcode:source", source)
        for limit, scope, identifiers in budgets:
            reserved.append(await rl.reserve(limit, scope, *identifiers))
    except RateLimited as exc:
        for reservation in reserved:  # not judged: nothing spent
            await rl.refund(reservation)
        log.warning("link code throttled (%s): source=%s code=%s", exc.scope, source, _masked(code))
        raise rate_limited(exc) from None

    async with tenant_connection(pool, None) as conn:
        found = await devices.lookup_link_code(conn, code)
    reason = None
    if found is None:
        reason = "unknown"
    elif admin_org is not None and found["org_id"] != admin_org:
        reason = "another_org"
    elif found["revoked"]:
        reason = "revoked"
    elif found["expires_at"] <= datetime.now(UTC):
        reason = "expired"
    elif found["used_count"] >= found["max_devices"]:
        reason = "used_up"
    result: BalcaoRegistered | None = None
    if found is not None and reason is None:
        async with tenant_connection(pool, found["org_id"]) as conn:
            if await devices.claim_link_code(conn, found["id"]):
                device_id = await devices.create_device(conn, found["org_id"], body.nome_balcao, found["id"])
                key, _ = await devices.create_api_key(
                    conn, found["org_id"], "device", body.nome_balcao, device_id=device_id
                )
                org = await accounts.get_org(conn, found["org_id"])
                result = BalcaoRegistered(
                    api_key=key.key,
                    balcao_id=device_id,
                    status="registered",
                    client_id=(org["client_id"] if org else None) or str(found["org_id"]),
                    solution=await solutions.counter_solution(conn, found["org_id"]),
                )
            else:
                reason = "used_up"  # lost a race for the last registration
    if result is not None:
        for reservation in reserved:  # a right code is no failure
            await rl.refund(reservation)
        log.info("device registered: org=%s source=%s", found["org_id"] if found else None, source)
        return result
    log.warning("link code refused (%s): source=%s code=%s", reason, source, _masked(code))
    raise ApiError(400, "invalid_link_code", "link code is wrong, expired or used up")
