"""Password hashing with Argon2id (argon2-cffi, the library's recommended parameters).

One hash or verification costs about 150 ms of CPU (by design): in the API use the `_async` forms,
which run it in the shared CPU pool (core/offload.py) instead of on the event loop."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.offload import run_cpu

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a login takes as long either way (no user enumeration
# by timing).
_DUMMY_HASH = _hasher.hash("escuta-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    return await run_cpu(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await run_cpu(verify_password, password_hash, password)
