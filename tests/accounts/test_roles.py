"""The production role layout: a non-superuser owner migrates, a login role in escuta_app serves."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from db.migrate import migrate_dsn
from db.tenancy import tenant_connection
from tests.pg import with_database


def _as_user(dsn: str, user: str, password: str) -> str:
    parts = urlsplit(dsn)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", parts.path, parts.query, parts.fragment))


@pytest.fixture
async def owner_and_api(pg_admin_dsn: str) -> AsyncIterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    owner, api, db, pw = f"escuta_owner_{suffix}", f"escuta_api_{suffix}", f"escuta_roles_{suffix}", "pw-" + suffix
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        await admin.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD '{pw}'")
        await admin.execute(f'CREATE DATABASE "{db}" OWNER {owner}')
        # escuta_app may already exist on this server (other test databases): its creator granted it.
        await admin.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'escuta_app') THEN "
            f"GRANT escuta_app TO {owner} WITH ADMIN OPTION; END IF; END $$"
        )
        yield _as_user(with_database(pg_admin_dsn, db), owner, pw), api
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.execute(f"DROP ROLE IF EXISTS {api}")
        await admin.execute(f"DROP ROLE IF EXISTS {owner}")
        await admin.close()


async def test_owner_migrates_api_role_is_confined(owner_and_api: tuple[str, str]) -> None:
    owner_dsn, api = owner_and_api
    await migrate_dsn(owner_dsn)  # as a non-superuser owner
    a, b = uuid.uuid4(), uuid.uuid4()
    owner = await asyncpg.connect(owner_dsn)
    try:
        for org in (a, b):
            await owner.execute("INSERT INTO organizations (id, name) VALUES ($1, 'x')", org)
            await owner.execute("INSERT INTO solutions (org_id, name, profile) VALUES ($1, 'S', 'p')", org)
        await owner.execute(f"CREATE ROLE {api} LOGIN PASSWORD 'api-pw' IN ROLE escuta_app")
    finally:
        await owner.close()
    api_dsn = _as_user(owner_dsn, api, "api-pw")
    conn = await asyncpg.connect(api_dsn)
    try:
        # The API's login role, even without tenant_connection, sees no tenant rows at all.
        assert await conn.fetchval("SELECT count(*) FROM solutions") == 0
        async with tenant_connection(conn, a) as scoped:
            assert [r["org_id"] for r in await scoped.fetch("SELECT org_id FROM solutions")] == [a]
            assert await scoped.fetchval("SELECT org_id FROM escuta_api_key_lookup('bk_nothing')") is None
    finally:
        await conn.close()
