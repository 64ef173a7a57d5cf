"""Devices and their keys, and publishable browser keys: listed and revoked by org admins.

Keys are shown once, at creation; lists show only the public prefix, name, creation and last use.
Another organization's device or key answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from control_api.credential_cache import credential_cache
from control_api.deps import CurrentPrincipal, OrgAdmin, Pool
from control_api.errors import ApiError
from control_api.schemas.accounts import (
    Device,
    DeviceList,
    DeviceMe,
    OrganizationRef,
    PublishableKey,
    PublishableKeyBody,
    PublishableKeyCreated,
    PublishableKeyList,
    Revoked,
)
from control_api.schemas.formats import CursorQuery, PageLimit
from db import accounts, devices, solutions
from db.query import ALL
from db.tenancy import tenant_connection

router = APIRouter(tags=["devices"])


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


@router.get("/devices")
async def list_devices(
    admin: OrgAdmin,
    pool: Pool,
    limit: PageLimit = None,
    cursor: CursorQuery = None,
) -> DeviceList:
    async with tenant_connection(pool, admin.org_id) as conn:
        page = await devices.page_devices(conn, admin.org_id, limit=limit or ALL, cursor=cursor)
    return DeviceList(items=[Device.from_row(r) for r in page.rows], nextCursor=page.next_cursor)


# Declared before `/devices/{device_id}`, which would otherwise take "me" for an id.
@router.get("/devices/me", openapi_extra={"security": [{"apiKey": []}]})
async def device_me(principal: CurrentPrincipal, pool: Pool) -> DeviceMe:
    """For a device key (`X-API-Key: bk_...`): its device, organization and counter solution."""
    if principal.kind != "device" or principal.device_id is None:
        raise ApiError(403, "forbidden", "only a device key (bk_...) has a device")
    async with tenant_connection(pool, principal.org_id) as conn:
        rows = await devices.list_devices(conn, principal.org_id, principal.device_id)
        org = await accounts.get_org(conn, principal.org_id)
        solution = await solutions.counter_solution(conn, principal.org_id)
    if not rows or org is None:
        raise _not_found("device")
    return DeviceMe(
        id=rows[0]["id"],
        name=rows[0]["name"],
        organization=OrganizationRef(id=org["id"], name=org["name"], clientId=org["client_id"]),
        solution=solution,
    )


@router.get("/devices/{device_id}")
async def get_device(device_id: uuid.UUID, admin: OrgAdmin, pool: Pool) -> Device:
    async with tenant_connection(pool, admin.org_id) as conn:
        rows = await devices.list_devices(conn, admin.org_id, device_id)
    if not rows:
        raise _not_found("device")
    return Device.from_row(rows[0])


@router.delete("/devices/{device_id}")
async def revoke_device(device_id: uuid.UUID, admin: OrgAdmin, pool: Pool, request: Request) -> Revoked:
    async with tenant_connection(pool, admin.org_id) as conn:
        prefixes = await devices.revoke_device(conn, admin.org_id, device_id)
    if prefixes is None:
        raise _not_found("device")
    # Answered once every API process has been told (the notification came back): see credential_cache.
    await credential_cache(request.app.state).revoked(prefixes)
    return Revoked(status="revoked")


@router.post("/keys/publishable", status_code=201)
async def create_publishable_key(body: PublishableKeyBody, admin: OrgAdmin, pool: Pool) -> PublishableKeyCreated:
    """A browser key: mints tokens only for this organization, only from these exact origins."""
    for origin in body.allowedOrigins:
        if not origin.startswith(("https://", "http://")) or origin.endswith("/") or origin.count("/") != 2:
            raise ApiError(
                400, "invalid_request", f"allowedOrigins: {origin!r} is not an origin (scheme://host[:port])"
            )
    async with tenant_connection(pool, admin.org_id) as conn:
        key, key_id = await devices.create_api_key(
            conn, admin.org_id, "publishable", body.name, allowed_origins=body.allowedOrigins
        )
    return PublishableKeyCreated(
        id=key_id, key=key.key, prefix=key.prefix, name=body.name, allowedOrigins=body.allowedOrigins
    )


@router.get("/keys/publishable")
async def list_publishable_keys(
    admin: OrgAdmin,
    pool: Pool,
    limit: PageLimit = None,
    cursor: CursorQuery = None,
) -> PublishableKeyList:
    async with tenant_connection(pool, admin.org_id) as conn:
        page = await devices.page_publishable_keys(conn, admin.org_id, limit=limit or ALL, cursor=cursor)
    return PublishableKeyList(items=[PublishableKey.from_row(r) for r in page.rows], nextCursor=page.next_cursor)


@router.get("/keys/publishable/{key_id}")
async def get_publishable_key(key_id: uuid.UUID, admin: OrgAdmin, pool: Pool) -> PublishableKey:
    async with tenant_connection(pool, admin.org_id) as conn:
        rows = await devices.list_publishable_keys(conn, admin.org_id, key_id)
    if not rows:
        raise _not_found("key")
    return PublishableKey.from_row(rows[0])


@router.delete("/keys/publishable/{key_id}")
async def revoke_publishable_key(key_id: uuid.UUID, admin: OrgAdmin, pool: Pool, request: Request) -> Revoked:
    async with tenant_connection(pool, admin.org_id) as conn:
        prefix = await devices.revoke_publishable_key(conn, admin.org_id, key_id)
    if prefix is None:
        raise _not_found("key")
    await credential_cache(request.app.state).revoked([prefix])
    return Revoked(status="revoked")
