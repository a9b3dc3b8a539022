"""Which URLs a feed reader may fetch: http and https only, and only hosts whose every address
is public (no loopback, private, link-local, shared, reserved or multicast address) or in one of
the networks of ``MEDIAMON_FEEDS_ALLOWED_NETWORKS``, checked again at every redirect, and at
every connection (:class:`GuardedBackend`): a connection goes to an address that was checked
in the same lookup, so a DNS server that answers a public address to the check and a private
one to the connection (DNS rebinding) gains nothing."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from enum import StrEnum
from urllib.parse import urlsplit

import httpcore


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
    await checked_addresses(parts.hostname, parts.port or 443, allowed)


async def checked_addresses(host: str, port: int, allowed: Networks) -> list[str]:
    """The addresses of ``host``, each public or in ``allowed``; :class:`FetchError` if it
    does not resolve or any address is neither."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(FetchReason.DNS, f"{host}: cannot resolve ({exc})") from None
    addresses = list(dict.fromkeys(str(i[4][0]) for i in infos))
    private = sorted(a for a in addresses if not _allowed(a, allowed))
    if private:
        raise FetchError(
            FetchReason.PRIVATE_ADDRESS,
            f"{host} resolves to {', '.join(private)}, not a public address"
            " (MEDIAMON_FEEDS_ALLOWED_NETWORKS may allow it)",
        )
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving each host itself when it connects and connecting
    only to the addresses that lookup checked (the TLS handshake still verifies the host's
    name)."""

    def __init__(self, allowed: Networks) -> None:
        self._allowed = allowed
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        error: Exception | None = None
        for address in await checked_addresses(host, port, self._allowed):
            try:
                stream: httpcore.AsyncNetworkStream = await self._backend.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
                return stream
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # checked_addresses gives at least one address or raises
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)
