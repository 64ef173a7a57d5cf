"""Names a LiveKit room and identity can carry: seed 003's solutions, client ids and user ids.

Seed 003 builds the room and the identity as ``"{solution}-{clientId}-{userId}"`` from whatever its
frontends send (``"Daniel Silva"``, ``"Ai-Helper"``). LiveKit room names and identities are arbitrary
UTF-8 strings, so Escuta refuses only what cannot travel in one: control characters and line separators
(they break logs, headers and the signalling's JSON consumers), blanks at either end (invisible, and
two names that look the same would be two rooms), empty names and overlong ones.

Client ids are stricter (no hyphen, no blank): a client id is an identifier the platform admin or an
org admin chooses once, and without a hyphen the room name still shows where it is.
"""

from __future__ import annotations

# One character that is not a control character (C0, DEL, C1) nor a line/paragraph separator, and a
# non-blank one for the two ends. Written for both Python's `re` and pydantic's Rust regex engine.
_CHAR = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
_EDGE = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029\s]"
NAME_PATTERN = rf"^{_EDGE}(?:{_CHAR}*{_EDGE})?$"

MAX_SOLUTION = 64
MAX_USER_ID = 128
MAX_CLIENT_ID = 64
# LiveKit's default limit for room names and identities (its `limit.max_room_name_length`) is bytes.
MAX_ROOM_BYTES = 256

CLIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.]{0,63}$"


def room_name(solution: str, client_id: str, user_id: str) -> str:
    """Seed 003's room (and identity): ``{solution}-{clientId}-{userId}``."""
    return f"{solution}-{client_id}-{user_id}"


def room_too_long(room: str) -> bool:
    return len(room.encode("utf-8")) > MAX_ROOM_BYTES
