"""With `ESCUTA_SMTP_HOST` set, an invitation is also e-mailed: here to a real SMTP server (aiosmtpd) on
127.0.0.1. Off by default: without it nothing is sent and the inviter hands the token over."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller

from control_api.app import create_app
from tests.accounts.helpers import from_address, register
from tests.conftest import make_settings


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


async def test_invitation_is_emailed_when_smtp_is_configured(
    db_pool: asyncpg.Pool, database_url: str, smtp_server: tuple[int, _Inbox]
) -> None:
    port, inbox = smtp_server
    settings = make_settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_sender="convites@escuta.dev",
        smtp_link_base_url="https://console.escuta.dev/",
    )
    app = create_app(settings, pool=db_pool)
    async with from_address(app, "10.0.0.1") as c:
        org = await register(c, "Rede Pharma")
        r = await c.post("/members", json={"email": "bruno@example.com", "role": "member"}, headers=org.headers)
    assert r.status_code == 201 and r.json()["sent"] is True
    invitation = r.json()
    [(recipients, message)] = inbox.messages
    assert recipients == ["bruno@example.com"] and message["From"] == "convites@escuta.dev"
    assert "Rede Pharma" in message["Subject"]
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"https://console.escuta.dev/invite#{invitation['token']}" in body
    async with from_address(app, "10.0.0.2") as c:
        r = await c.post("/invitations/accept", json={"token": invitation["token"], "password": "a new password"})
    assert r.status_code == 200


async def test_nothing_is_sent_by_default_nor_when_the_server_is_down(db_pool: asyncpg.Pool, database_url: str) -> None:
    app = create_app(make_settings(database_url=database_url), pool=db_pool)
    async with from_address(app, "10.0.0.1") as c:
        org = await register(c)
        r = await c.post("/members", json={"email": "a@example.com", "role": "member"}, headers=org.headers)
    assert r.status_code == 201 and r.json()["sent"] is False
    down = create_app(make_settings(database_url=database_url, smtp_host="127.0.0.1", smtp_port=_free_port()))
    down.state.pool = db_pool
    async with from_address(down, "10.0.0.1") as c:
        r = await c.post("/members", json={"email": "b@example.com", "role": "member"}, headers=org.headers)
    assert r.status_code == 201 and r.json()["sent"] is False and r.json()["token"]  # the inviter still has it
