"""Invitations (issue 14): nobody joins an organization without proving control of the account.

`POST /members` and `/cadastro/cliente` create a pending invitation whose one-time token is answered
once to the inviter (and e-mailed when ``ESCUTA_SMTP_HOST`` is set); only its SHA-256 is stored. The
invitee accepts with the token plus the invited account's access token, or plus a password: a new
account's, or the existing account's own (the same proof as a login). Only then is the membership made.

Accepting spends the login budget (per source, and wrong passwords per account and source): a stolen
token does not become a way to guess the invited account's password faster than `/auth/login` allows.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from control_api.errors import ApiError
from control_api.schemas.invitations import InvitationCreated
from control_api.services.mail import send_mail
from core.security.passwords import hash_password_async, verify_password_async
from core.settings import Settings
from db import accounts, invitations
from db.accounts import Role
from db.pool import Conn

TOKEN_PREFIX = "inv_"
LINK_PATH = "/invite#"  # the fragment stays in the browser: the token never reaches a server's log

log = logging.getLogger("escuta.api.invitations")


@dataclass(frozen=True)
class NewInvitation:
    id: UUID
    org_id: UUID
    email: str
    role: Role
    token: str
    expires_at: datetime

    @property
    def link(self) -> str:
        return LINK_PATH + self.token

    def answer(self, *, sent: bool) -> InvitationCreated:
        """What the inviter sees, once."""
        return InvitationCreated(
            id=self.id,
            email=self.email,
            role=self.role,
            status="pending",
            token=self.token,
            link=self.link,
            expiresAt=self.expires_at,
            sent=sent,
        )


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def invite(
    conn: Conn, settings: Settings, org_id: UUID, email: str, role: Role, invited_by: str
) -> NewInvitation:
    """A pending invitation in ``conn``'s transaction (scoped to ``org_id``); an open one for the same
    e-mail is replaced. Answers the same whether or not the e-mail has an account."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = await invitations.create_invitation(
        conn,
        org_id,
        email=email,
        role=role,
        token_hash=digest(token),
        invited_by=invited_by,
        ttl=settings.invitation.ttl,
    )
    return NewInvitation(row["id"], org_id, email, role, token, row["expires_at"])


async def deliver(settings: Settings, invitation: NewInvitation, org_name: str) -> bool:
    """E-mail the invitation when SMTP is configured; False when it is not or sending failed (the
    inviter still has the token to hand over). Never logs the token or the address."""
    if settings.smtp.host is None:
        return False
    base = settings.smtp.link_base_url.rstrip("/")
    body = (
        f"Você foi convidado(a) para a organização {org_name} no Escuta.\n\n"
        f"Aceite em: {base}{invitation.link}\n\n"
        f"O convite vale até {invitation.expires_at:%d/%m/%Y %H:%M} UTC e só pode ser usado uma vez.\n"
    )
    try:
        await asyncio.to_thread(send_mail, settings.smtp, invitation.email, f"Convite: {org_name}", body)
    except OSError as exc:  # smtplib.SMTPException is an OSError
        log.warning("invitation %s not e-mailed: %s", invitation.id, type(exc).__name__)
        return False
    return True


@dataclass(frozen=True)
class AcceptedBy:
    user_id: UUID
    org_id: UUID
    role: Role
    platform_admin: bool


def invalid_invitation() -> ApiError:
    # Unknown, expired, revoked and used tokens answer alike.
    return ApiError(400, "invalid_invitation", "invitation is wrong, expired, revoked or already used")


async def resolve(conn: Conn, token: str) -> tuple[UUID, UUID, str, Role]:
    """``(invitation id, org id, e-mail, role)`` of an open invitation, or 400 ``invalid_invitation``."""
    row = await invitations.lookup(conn, digest(token))
    if row is None or not row["open"] or row["expires_at"] <= datetime.now(row["expires_at"].tzinfo):
        raise invalid_invitation()
    return row["id"], row["org_id"], row["email"], row["role"]


async def prove_account(
    conn: Conn, email: str, *, signed_in_user: UUID | None, password: str | None, name: str | None
) -> tuple[UUID, bool]:
    """The invited account's id and whether it is a platform admin, once its holder proved control:
    signed in as that very account, or its password, or (no account yet) a new password."""
    if signed_in_user is not None:
        user = await accounts.get_user(conn, signed_in_user)
        if user is None or user["email"].lower() != email.lower():
            raise ApiError(403, "wrong_account", "this invitation is for another e-mail; sign in as that account")
        return user["id"], user["is_platform_admin"]
    if password is None:
        raise ApiError(400, "invalid_request", "password: required unless signed in as the invited account")
    existing = await accounts.find_user_by_email(conn, email)
    if existing is not None:
        # Argon2 off the event loop: it is ~100 ms of CPU.
        if not await verify_password_async(existing["password_hash"], password):
            raise ApiError(401, "invalid_credentials", "wrong password for the invited account")
        return existing["id"], existing["is_platform_admin"]
    user_id = await accounts.create_user(conn, email, await hash_password_async(password), name=name)
    if user_id is None:
        raise ApiError(409, "conflict", "the account was created concurrently; retry")
    return user_id, False
