"""Plain-text e-mail over SMTP (blocking: callers run it in a thread)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from core.settings.accounts import SmtpSettings


def send_mail(smtp: SmtpSettings, to: str, subject: str, body: str) -> None:
    assert smtp.host is not None
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as conn:
        if smtp.starttls:
            conn.starttls()
        if smtp.username is not None and smtp.password is not None:
            conn.login(smtp.username, smtp.password.get_secret_value())
        conn.send_message(msg)
