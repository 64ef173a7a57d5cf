"""LiveKit webhook bodies to ingestion rows, without building a protobuf message (issue 20.3).

``google.protobuf.json_format.Parse`` costs more than the rest of a webhook's Python put together. The
fields Escuta stores are few; this reads them from the JSON directly, accepting what protobuf JSON
allows for them (camelCase or the proto's own names; int64 as a string or a number; enums by name or
number). Anything else (a field of an unexpected type, an unknown enum name) goes through
``json_format.Parse`` as before, so the answer for an odd body is exactly the old one (400 when
protobuf refuses it). tests/test_webhook_events.py checks both paths give the same rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from google.protobuf.json_format import Parse as parse_protobuf_json
from google.protobuf.json_format import ParseError
from livekit.protocol import models, webhook

from control_api.services.webhook_checks import event_problem
from core.naming import MAX_ROOM_BYTES
from db.sessions import EventRow, body_event_id, event_row, ts


class InvalidWebhookBody(ValueError):
    """Not a LiveKit event (protobuf JSON refuses it)."""


class _Unusual(Exception):
    """The fast reader met a shape it does not handle: protobuf decides."""


def _enum_names(enum: Any) -> tuple[dict[int, str], frozenset[str]]:
    return {v.number: v.name for v in enum.DESCRIPTOR.values}, frozenset(v.name for v in enum.DESCRIPTOR.values)


_KIND = _enum_names(models.ParticipantInfo.Kind)
_TRACK_TYPE = _enum_names(models.TrackType)
_TRACK_SOURCE = _enum_names(models.TrackSource)


def _field(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    if value is None:
        value = obj.get(snake)
    return value


def _str(obj: dict[str, Any], camel: str, snake: str | None = None) -> str:
    value = _field(obj, camel, snake or camel)
    if value is None:
        return ""
    if type(value) is not str:
        raise _Unusual
    return value


def _int64(obj: dict[str, Any], camel: str, snake: str) -> int:
    value = _field(obj, camel, snake)
    if value is None:
        return 0
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and (value.isdigit() or (value[:1] == "-" and value[1:].isdigit())):
        return int(value)
    raise _Unusual


def _enum(obj: dict[str, Any], key: str, names: tuple[dict[int, str], frozenset[str]]) -> str:
    value = obj.get(key)
    by_number, known = names
    if value is None:
        return by_number[0]
    if type(value) is str and value in known:
        return value
    if type(value) is int and value in by_number:
        return by_number[value]
    raise _Unusual


def _object(event: dict[str, Any], key: str) -> dict[str, Any]:
    value = event.get(key)
    if value is None:
        return {}
    if type(value) is not dict:
        raise _Unusual
    return value


def _fast_row(raw: bytes, text: str) -> EventRow:
    try:
        event = json.loads(text)
    except ValueError:
        raise _Unusual from None
    if type(event) is not dict:
        raise _Unusual
    room, p, t = _object(event, "room"), _object(event, "participant"), _object(event, "track")
    created = _int64(event, "createdAt", "created_at")
    at = ts(created) if created else datetime.now(UTC)
    room_ms, room_s = _int64(room, "creationTimeMs", "creation_time_ms"), _int64(room, "creationTime", "creation_time")
    joined_ms, joined_s = _int64(p, "joinedAtMs", "joined_at_ms"), _int64(p, "joinedAt", "joined_at")
    return EventRow(
        _str(event, "id") or body_event_id(raw),
        _str(event, "event"),
        _str(room, "name"),
        _str(room, "sid"),
        at,
        text,
        ts(room_ms / 1000) if room_ms else ts(room_s) if room_s else at,
        _str(p, "sid"),
        _str(p, "identity"),
        _str(p, "name"),
        _enum(p, "kind", _KIND),
        _str(p, "metadata"),
        ts(joined_ms / 1000) if joined_ms else ts(joined_s) if joined_s else None,
        _str(t, "sid"),
        _enum(t, "type", _TRACK_TYPE),
        _enum(t, "source", _TRACK_SOURCE),
        _str(t, "name"),
    )


# Row fields LiveKit bounds (names, ids, identities): longer ones cannot be indexed (issue 14.6).
_BOUNDED_FIELDS = (
    "id",
    "event",
    "room_name",
    "room_sid",
    "participant_sid",
    "identity",
    "name",
    "track_sid",
    "track_name",
)


def _storable(row: EventRow, text: str) -> EventRow:
    # A NUL (only JSON-escaped in valid JSON) or an over-long name: the slow path names the field.
    if "\\u0000" in text or any(len(getattr(row, f).encode("utf-8")) > MAX_ROOM_BYTES for f in _BOUNDED_FIELDS):
        raise _Unusual
    return row


def parse_event(raw: bytes) -> EventRow:
    """The row for a verified webhook body; raises InvalidWebhookBody for what is not a LiveKit event or
    carries what cannot be stored (a NUL, a name longer than LiveKit allows, a time out of range)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidWebhookBody("webhook body is not UTF-8") from None
    try:
        return _storable(_fast_row(raw, text), text)
    except (_Unusual, ValueError, OverflowError, OSError):
        pass
    event = protobuf_event(text)
    problem = event_problem(event)
    if problem is not None:
        raise InvalidWebhookBody(problem)
    return event_row(event, raw)


def protobuf_event(text: str) -> webhook.WebhookEvent:
    """The full protobuf event (livekit-api's parse): for the odd body, and for the rare consumer needing it."""
    try:
        return parse_protobuf_json(text, webhook.WebhookEvent(), ignore_unknown_fields=True)
    except ParseError:
        raise InvalidWebhookBody("webhook body is not a LiveKit event") from None
