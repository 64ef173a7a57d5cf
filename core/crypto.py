"""Secrets at rest: AES-256-GCM with the key from ``ESCUTA_CREDENTIALS_KEY``.

A blob is ``version (1 byte) | nonce (12 bytes) | ciphertext + tag``. GCM authenticates as well as
encrypts: a flipped bit, a wrong key, or (with ``aad``) a blob copied onto another organization's row
fails to decrypt instead of yielding garbage. The version byte leaves room for key rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.settings import ConfigError, Settings

_VERSION = 1
_NONCE = 12
# Dev only (ESCUTA_ENV=dev without a key): a fixed, public key, so dev data survives restarts.
# `Settings.check_production` refuses to start in prod without a real key.
_DEV_KEY = hashlib.sha256(b"escuta dev credentials key - not secret").digest()


class DecryptionError(RuntimeError):
    """The blob was not produced by this key (or was altered)."""


def credentials_key(settings: Settings) -> bytes:
    """The 32-byte key; accepts standard or URL-safe base64."""
    if settings.credentials.key is None:
        if settings.env == "prod":
            raise ConfigError("ESCUTA_CREDENTIALS_KEY is required with ESCUTA_ENV=prod")
        return _DEV_KEY
    raw = settings.credentials.key.get_secret_value().strip()
    try:
        normalized = raw.replace("+", "-").replace("/", "_")
        key = base64.urlsafe_b64decode(normalized + "=" * (-len(normalized) % 4))
    except (binascii.Error, ValueError):
        raise ConfigError("ESCUTA_CREDENTIALS_KEY is not base64") from None
    if len(key) != 32:
        raise ConfigError("ESCUTA_CREDENTIALS_KEY must decode to 32 bytes (e.g. `openssl rand -base64 32`)")
    return key


def encrypt_secret(plaintext: str, settings: Settings, *, aad: bytes = b"") -> bytes:
    """Encrypt ``plaintext``; ``aad`` binds the blob to its context (e.g. ``b"<org>:<provider>"``)."""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(credentials_key(settings)).encrypt(nonce, plaintext.encode("utf-8"), aad)
    return bytes([_VERSION]) + nonce + sealed


def decrypt_secret(blob: bytes, settings: Settings, *, aad: bytes = b"") -> str:
    """The plaintext of :func:`encrypt_secret`'s blob; :class:`DecryptionError` if it does not verify."""
    if len(blob) < 1 + _NONCE + 16 or blob[0] != _VERSION:
        raise DecryptionError("not an Escuta secret blob")
    nonce, sealed = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
    try:
        return AESGCM(credentials_key(settings)).decrypt(nonce, sealed, aad).decode("utf-8")
    except InvalidTag:
        raise DecryptionError("secret does not decrypt with ESCUTA_CREDENTIALS_KEY") from None
