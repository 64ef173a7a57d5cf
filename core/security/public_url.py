"""Can a service outside our network reach this URL? The check for what Escuta hands to other clouds.

LiveAvatar joins the LiveKit room from its own servers, so the LiveKit URL it is given must be reachable
from the internet; `LIVEKIT_URL` (`ws://127.0.0.1:7880`, `ws://livekit:7880` in docker-compose) is
where *our* processes reach LiveKit and usually is not. `public_url_problem` says why a URL is not
public, or None when it is:

- unset, or not a `ws`/`wss`/`http`/`https` URL with a host;
- a literal address that is not global (`ipaddress`: loopback, private, link-local, shared CGN,
  documentation and other reserved ranges);
- `localhost`, a single-label name (a docker-compose or Kubernetes service name such as `livekit`), or a
  name under a suffix that never leaves a site (`.local`, `.internal`, `.lan`, `.home.arpa`, ...);
- a name that does not resolve from here, or that resolves to any non-global address.

A name is judged by what *this* host resolves it to: a split-horizon name that resolves to a private
address inside is refused, because nothing here can tell that the outside sees another address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

SCHEMES = ("ws", "wss", "http", "https")
SITE_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".intranet", ".lan", ".home.arpa")
RESOLVE_TIMEOUT_SECONDS = 3.0

Kind = Literal["unset", "invalid", "not_global", "site_local_name", "unresolvable"]
Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass(frozen=True)
class NotPublic:
    """Why a URL is not public: ``kind`` is safe to show anyone; ``detail`` names the address (logs only)."""

    kind: Kind
    detail: str

    def summary(self) -> str:
        return {
            "unset": "is not set",
            "invalid": "is not a ws(s):// or http(s):// URL with a host",
            "not_global": "points at a loopback, private or reserved address",
            "site_local_name": "is a name that only resolves inside a private network",
            "unresolvable": "does not resolve",
        }[self.kind]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _not_global(address: str) -> str | None:
    """None for a global address, else what it is ("a private address 10.0.0.5")."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of the address
    if ip.is_global:
        return None
    for what in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{what}"):
            return f"a {what.replace('_', '-')} address {address}"
    return f"a non-global address {address}"  # e.g. shared address space (100.64.0.0/10)


async def public_url_problem(
    url: str | None, *, resolve: Resolver = system_resolver, resolve_seconds: float = RESOLVE_TIMEOUT_SECONDS
) -> NotPublic | None:
    """None when `url` can be reached from the internet as far as this host can tell, else why not."""
    if not url or not url.strip():
        return NotPublic("unset", "no URL")
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a bad port or a malformed IPv6 literal
        return NotPublic("invalid", f"{url!r}: {exc}")
    if parts.scheme not in SCHEMES or not host:
        return NotPublic("invalid", repr(url))
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        why = _not_global(host)
        return NotPublic("not_global", why) if why else None
    if host == "localhost" or host.endswith(SITE_LOCAL_SUFFIXES) or "." not in host:
        return NotPublic("site_local_name", f"{host!r} is not a public DNS name (a service or site-local name)")
    default_port = 443 if parts.scheme in ("wss", "https") else 80
    try:
        addresses = await asyncio.wait_for(resolve(host, port or default_port), resolve_seconds)
    except (OSError, TimeoutError) as exc:
        return NotPublic("unresolvable", f"{host!r} does not resolve here ({type(exc).__name__})")
    if not addresses:
        return NotPublic("unresolvable", f"{host!r} resolves to no address")
    for address in addresses:
        why = _not_global(address)
        if why:
            return NotPublic("not_global", f"{host!r} resolves to {why}")
    return None
