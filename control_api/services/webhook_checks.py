"""What a signed LiveKit event may carry before it is stored (issue 14.6).

A valid signature proves the body came from whoever holds the API secret, not that its values fit:
a 300 kB room name cannot be indexed by PostgreSQL, a NUL character cannot be stored as text, and an
event time past year 9999 cannot be a Python datetime (all three answered 500). LiveKit bounds names,
ids and identities (`limit.max_room_name_length`, 256 bytes by default), so longer ones are refused with
the field's name; metadata is only bounded by the request's size.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import Message
from livekit.protocol import webhook

from core.naming import MAX_ROOM_BYTES

# Fields holding a name, an id or an identity (indexed or keyed on): LiveKit's bound for room names.
_BOUNDED = {"name", "sid", "identity", "id", "event", "egress_id", "ingress_id", "room_id", "room_name"}
# The latest instant a datetime holds (9999-12-31T23:59:59Z), in seconds since the epoch.
MAX_EPOCH_SECONDS = 253_402_300_799


def _time_bound(field: str) -> int | None:
    if field.endswith("_ms"):
        return MAX_EPOCH_SECONDS * 1000
    if field.endswith("_at") or field == "creation_time":
        return MAX_EPOCH_SECONDS
    return None


def _problem(message: Message, path: str) -> str | None:
    for descriptor, value in message.ListFields():
        name = f"{path}{descriptor.json_name}" if path else descriptor.json_name
        if isinstance(value, Message):
            found = _problem(value, f"{name}.")
        elif isinstance(value, str):
            found = _text_problem(name, descriptor.name, value)
        elif isinstance(value, int) and not isinstance(value, bool):
            bound = _time_bound(descriptor.name)
            found = f"{name}: out of range" if bound is not None and not 0 <= value <= bound else None
        elif isinstance(value, Iterable) and not isinstance(value, bytes):  # a repeated field
            found = _repeated_problem(name, descriptor.name, value)
        else:
            found = None
        if found is not None:
            return found
    return None


def _text_problem(name: str, field: str, value: str) -> str | None:
    if "\x00" in value:
        return f"{name}: must not contain a NUL character"
    if field in _BOUNDED and len(value.encode("utf-8")) > MAX_ROOM_BYTES:
        return f"{name}: longer than {MAX_ROOM_BYTES} bytes"
    return None


def _repeated_problem(name: str, field: str, values: Iterable[object]) -> str | None:
    for i, item in enumerate(values):
        if isinstance(item, Message):
            found = _problem(item, f"{name}[{i}].")
        elif isinstance(item, str):
            found = _text_problem(f"{name}[{i}]", field, item)
        else:
            found = None
        if found is not None:
            return found
    return None


def event_problem(event: webhook.WebhookEvent) -> str | None:
    """The first field of ``event`` that cannot be stored, as ``"room.name: longer than 256 bytes"``."""
    return _problem(event, "")
