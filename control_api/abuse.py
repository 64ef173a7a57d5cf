"""Who the client is (its address, proxies considered) and the limits shared by every API process.

The source address keys most abuse limits, so it must not be forgeable: ``X-Forwarded-For`` is read
only when the connection comes from a proxy listed in ``ESCUTA_TRUSTED_PROXIES`` (empty by default),
and then the client is the rightmost address that is not itself a trusted proxy (entries to its left
were written by the client and prove nothing). `escuta api` runs uvicorn without its own proxy-header
handling, which trusted any local peer.

Login, sign-up, invitation and link-code limits are counted in PostgreSQL (:mod:`db.ratelimit`), so
they hold across processes. `/token`'s throughput limit stays per process (`principals.limiter`): it
guards no secret (keys are 240 random bits) and its hot path deliberately touches no database.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

import asyncpg
from starlette.requests import HTTPConnection

from control_api.errors import ApiError
from core.security.ratelimit import RateLimited
from db.ratelimit import SharedRateLimiter

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: HTTPConnection) -> str:
    # Read from the scope, not ``request.client`` (a new named tuple per call): this runs on every
    # `/token`, and with no trusted proxy (the default) it is the whole answer.
    client = request.scope.get("client")
    peer: str = client[0] if client else "unknown"
    proxies = request.app.state.settings.api.trusted_proxies
    if not proxies:
        return peer
    networks = _networks(tuple(proxies))
    if not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage in the chain: trust nothing further left
        client = hop
        if not _trusted(hop, networks):
            break
    return client


def rate_limited(exc: RateLimited) -> ApiError:
    return ApiError(
        429, "rate_limited", "too many requests; retry later", headers={"Retry-After": str(exc.retry_after)}
    )


def shared_limiter(request: HTTPConnection) -> SharedRateLimiter:
    state = request.app.state
    pool: asyncpg.Pool | None = state.pool
    if pool is None:
        raise ApiError(503, "database_unavailable", "the database is not connected yet")
    rl: SharedRateLimiter | None = getattr(state, "shared_limiter", None)
    if rl is None or rl.pool is not pool:
        rl = state.shared_limiter = SharedRateLimiter(pool)
    return rl
