"""Per-host politeness: each host's robots.txt (protego; read once an hour), at most
``MEDIAMON_FEEDS_HOST_CONCURRENCY`` fetches at once, starts spaced by
``MEDIAMON_FEEDS_HOST_INTERVAL_S`` (or the robots.txt crawl delay), and a pause after a 429 or
5xx answer: the server's Retry-After, else the backoff (pipeline/backoff.py), reset by the next
success."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from protego import Protego

from pipeline.backoff import Backoff
from pipeline.feeds.fetch import Fetcher, host_of
from pipeline.feeds.safety import TRANSIENT, FetchError, FetchReason
from pipeline.settings import Settings

_ROBOTS_TTL_S = 3600.0
_ALLOW_ALL = Protego.parse("")
_DENY_ALL = Protego.parse("User-agent: *\nDisallow: /")


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    backoff: Backoff
    next_start: float = 0.0
    robots: Protego | None = None
    robots_until: float = 0.0
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Hosts:
    """The politeness state of every host a feed reader fetches from."""

    def __init__(self, settings: Settings, fetcher: Fetcher) -> None:
        self._settings = settings
        self._fetcher = fetcher
        self._hosts: dict[str, _Host] = {}

    def _host(self, url: str) -> _Host:
        name = host_of(url)
        if name not in self._hosts:
            self._hosts[name] = _Host(
                asyncio.Semaphore(self._settings.feeds_host_concurrency),
                Backoff.of(self._settings, max(self._settings.feeds_host_interval_s, 1.0)),
            )
        return self._hosts[name]

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        """Wait for a turn at ``url``'s host: a free slot, then the spacing since the last start
        (and any pause the host asked for)."""
        host = self._host(url)
        async with host.semaphore:
            now = time.monotonic()
            start = max(now, host.next_start)
            host.next_start = start + self._spacing(host)
            await asyncio.sleep(start - now)
            yield

    def _spacing(self, host: _Host) -> float:
        delay = host.robots.crawl_delay(self._settings.feeds_user_agent) if host.robots else None
        return max(self._settings.feeds_host_interval_s, float(delay or 0))

    def answered(self, url: str, error: FetchError | None) -> None:
        """Note how ``url``'s host answered: a server-side failure pauses the host."""
        host = self._host(url)
        if error is None or error.reason not in (
            FetchReason.RATE_LIMITED,
            FetchReason.SERVER_ERROR,
        ):
            host.backoff.reset()
            return
        pause = max(error.retry_after or 0.0, host.backoff.next())
        host.next_start = max(host.next_start, time.monotonic() + pause)

    async def allowed(self, url: str) -> bool:
        """Whether the host's robots.txt lets the User-Agent fetch ``url``. A robots.txt that is
        missing (4xx) allows everything; one that cannot be read (5xx, no answer) allows nothing
        until it is read again."""
        host = self._host(url)
        async with host.robots_lock:
            if host.robots is None or time.monotonic() > host.robots_until:
                host.robots = await self._robots(url)
                host.robots_until = time.monotonic() + _ROBOTS_TTL_S
        return bool(host.robots.can_fetch(url, self._settings.feeds_user_agent))

    async def _robots(self, url: str) -> Protego:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            async with self.slot(robots_url):
                fetched = await self._fetcher.get(robots_url, accept="text/plain")
        except FetchError as exc:
            self.answered(robots_url, exc)
            return _DENY_ALL if exc.reason in TRANSIENT else _ALLOW_ALL
        self.answered(robots_url, None)
        return Protego.parse(fetched.body.decode("utf-8", "replace"))
