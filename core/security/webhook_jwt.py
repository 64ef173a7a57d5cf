"""A lean verifier for LiveKit's webhook signature (issue 20.3): what livekit-api's WebhookReceiver checks.

LiveKit signs each webhook with an HS256 JWT (the API key as ``iss``, an ``exp``) whose ``sha256`` claim
is the base64 SHA-256 of the exact body bytes. livekit-api verifies it with PyJWT and then builds a
``Claims`` dataclass of every grant, which is most of a webhook's Python cost before any storage; this
checks the same things with the standard library only:

- the header is ``{"alg": "HS256"}`` (any other algorithm, ``none`` included, is refused);
- the signature, compared in constant time;
- ``iss`` equals the API key, ``exp`` is present and not past, ``nbf`` and ``iat`` (when present) are
  not in the future, all with livekit-api's one-minute leeway (PyJWT's checks);
- ``sha256`` is present and equals the body's hash.

tests/test_webhook_verifier.py checks it accepts what livekit-api accepts and refuses what it refuses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

LEEWAY_SECONDS = 60.0  # livekit-api's TokenVerifier default (DEFAULT_LEEWAY)


class InvalidWebhookSignature(Exception):
    """The token or the body hash does not check out: the request is not from LiveKit."""


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class WebhookVerifier:
    """Verifies ``Authorization`` tokens against one LiveKit key pair."""

    def __init__(self, api_key: str, api_secret: str, *, leeway: float = LEEWAY_SECONDS) -> None:
        self._api_key = api_key
        self._secret = api_secret.encode()
        self._leeway = leeway
        # The header LiveKit's Go and Python SDKs write; a token with this exact header skips its JSON parse.
        self._known_headers: set[str] = set()

    def _check_header(self, segment: str) -> None:
        if segment in self._known_headers:
            return
        try:
            header = json.loads(_b64url(segment))
        except (ValueError, binascii.Error):
            raise InvalidWebhookSignature("malformed token header") from None
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            raise InvalidWebhookSignature("token algorithm is not HS256")
        if len(self._known_headers) < 8:  # a handful of spellings at most; never grows with traffic
            self._known_headers.add(segment)

    def verify(self, token: str, body: bytes) -> dict[str, Any]:
        """The token's claims when it is LiveKit's signature of ``body``; raises InvalidWebhookSignature."""
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidWebhookSignature("not a JWT")
        head, payload, signature = parts
        self._check_header(head)
        try:
            given = _b64url(signature)
        except (ValueError, binascii.Error):
            raise InvalidWebhookSignature("malformed signature") from None
        expected = hmac.new(self._secret, f"{head}.{payload}".encode("ascii", "replace"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, given):
            raise InvalidWebhookSignature("signature does not match")
        # Only a token signed with the secret gets this far: its claims are LiveKit's own.
        try:
            claims = json.loads(_b64url(payload))
        except (ValueError, binascii.Error):
            raise InvalidWebhookSignature("malformed claims") from None
        if not isinstance(claims, dict):
            raise InvalidWebhookSignature("malformed claims")
        if claims.get("iss") != self._api_key:
            raise InvalidWebhookSignature("token issued for another API key")
        now = time.time()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp + self._leeway < now:
            raise InvalidWebhookSignature("token expired or without exp")
        if nbf is not None and (not isinstance(nbf, int | float) or isinstance(nbf, bool) or nbf - self._leeway > now):
            raise InvalidWebhookSignature("token not valid yet")
        iat = claims.get("iat")
        if iat is not None and (not isinstance(iat, int | float) or isinstance(iat, bool) or iat - self._leeway > now):
            raise InvalidWebhookSignature("token issued in the future")
        digest = claims.get("sha256")
        if not isinstance(digest, str) or not digest:
            raise InvalidWebhookSignature("no sha256 claim")
        try:
            claimed = base64.b64decode(digest)
        except (ValueError, binascii.Error):
            raise InvalidWebhookSignature("malformed sha256 claim") from None
        if not hmac.compare_digest(hashlib.sha256(body).digest(), claimed):
            raise InvalidWebhookSignature("body hash does not match")
        return claims
