"""`escuta admin ...`: platform administration from the command line.

    escuta admin create-user EMAIL [--promote-existing]   a platform admin user (the seeds' ADMIN_SECRET, as a person)

A platform admin logs in with `/auth/login` like anyone else; its access token then opens the routes
behind the platform admin secret (`/cadastro/cliente`, every organization's sessions with ``?orgId=``).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import asyncpg
import typer

from core.security.passwords import hash_password
from db.accounts import create_user, make_platform_admin

admin_app = typer.Typer(help="Platform administration (users, organizations).", no_args_is_help=True)


@admin_app.callback()
def _admin() -> None:
    """Platform administration (users, organizations)."""  # keeps `admin` a group with one command


class ExistingAccount(Exception):
    """The e-mail already has an account and promoting it was not asked for."""


async def create_platform_admin(
    dsn: str, email: str, password: str, name: str | None = None, *, promote_existing: bool = False
) -> bool:
    """Create the user; True if created. An existing account is refused (:class:`ExistingAccount`)
    unless ``promote_existing``: whoever registered that e-mail chose its password, so promoting it
    silently would hand the platform to them (issue 14). Promoted, it keeps its own password.

    Runs as the connecting (migration) role: this is an operator action, not a tenant request.
    """
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        async with conn.transaction():
            user_id = await create_user(conn, email, hash_password(password), name=name, platform_admin=True)
            if user_id is None:
                if not promote_existing:
                    raise ExistingAccount(email)
                await make_platform_admin(conn, email)
            return user_id is not None
    finally:
        await conn.close()


@admin_app.command("create-user")
def create_user_command(
    email: Annotated[str, typer.Argument(help="The admin's e-mail (login name).")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="ESCUTA_ADMIN_PASSWORD",
            help="Asked interactively unless ESCUTA_ADMIN_PASSWORD is set; never pass it on the command line.",
        ),
    ],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    promote_existing: Annotated[
        bool,
        typer.Option(
            "--promote-existing",
            help="If the e-mail already has an account, make it a platform admin (it keeps its own password). "
            "Only when you know who controls that account.",
        ),
    ] = False,
) -> None:
    """Create a platform admin user; an existing account is refused unless --promote-existing."""
    from escuta.cli import fail, guarded, load_settings, require_database_url

    if len(password) < 12:
        raise fail("a platform admin password needs at least 12 characters")
    dsn = require_database_url(load_settings())
    try:
        created = guarded(
            lambda: asyncio.run(create_platform_admin(dsn, email, password, name, promote_existing=promote_existing))
        )
    except ExistingAccount:
        raise fail(
            "an account with this e-mail already exists; its password is not yours to know. "
            "Pass --promote-existing to make that account a platform admin"
        ) from None
    typer.echo("created platform admin" if created else "promoted existing user to platform admin")
