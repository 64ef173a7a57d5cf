"""Structured log events: a stable event name plus fields, readable in both log formats.

With ``ESCUTA_LOG_FORMAT=json`` each field is its own key (and ``event`` names the event); in text the
message itself reads ``ingestion_streamer_failed streamer_id=… error=…``. Never pass secrets or
personal data as fields.
"""

from __future__ import annotations

import logging
from typing import Any


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    if not logger.isEnabledFor(level):
        return
    text = " ".join([event, *(f"{k}={v}" for k, v in fields.items())])
    logger.log(level, "%s", text, extra={"event": event, **fields})
