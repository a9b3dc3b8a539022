"""Which URLs a feed reader may fetch: http and https only, and only hosts whose every address
is public (no loopback, private, link-local, shared, reserved or multicast address) or in one of
the networks of ``MEDIAMON_FEEDS_ALLOWED_NETWORKS``, checked again at every redirect."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from enum import StrEnum
from urllib.parse import urlsplit


class FetchReason(StrEnum):
    """Why a fetch gave no usable body (the ``reason`` label of the fetch-error metric)."""

    SCHEME = "scheme"
    PRIVATE_ADDRESS = "private_address"
    DNS = "dns"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    CLIENT_ERROR = "client_error"
    NOT_HTML = "not_html"
    NOT_DECODABLE = "not_decodable"
    ROBOTS = "robots"
    MALFORMED = "malformed"


TRANSIENT = frozenset(
    {
        FetchReason.DNS,
        FetchReason.CONNECTION,
        FetchReason.TIMEOUT,
        FetchReason.RATE_LIMITED,
        FetchReason.SERVER_ERROR,
    }
)
"""Reasons worth another try later; a page refused for any other reason is not fetched again."""


class FetchError(Exception):
    """A fetch that failed or was refused, with its reason (and the server's Retry-After)."""

    def __init__(self, reason: FetchReason, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after


Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]


def networks(cidrs: Sequence[str]) -> Networks:
    """The networks of ``MEDIAMON_FEEDS_ALLOWED_NETWORKS``."""
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def _allowed(address: str, allowed: Networks) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in allowed):
        return True
    return ip.is_global and not ip.is_multicast


async def check_url(url: str, allowed: Networks) -> None:
    """Raise :class:`FetchError` unless ``url`` is http(s) and its host resolves to public
    addresses, or addresses of the ``allowed`` networks, only."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(FetchReason.SCHEME, f"{url}: only http and https URLs are fetched")
    host = parts.hostname
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or 443, type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(FetchReason.DNS, f"{host}: cannot resolve ({exc})") from None
    private = sorted({str(i[4][0]) for i in infos if not _allowed(str(i[4][0]), allowed)})
    if private:
        raise FetchError(
            FetchReason.PRIVATE_ADDRESS,
            f"{host} resolves to {', '.join(private)}, not a public address"
            " (MEDIAMON_FEEDS_ALLOWED_NETWORKS may allow it)",
        )
