"""The feed reader's HTTP client (httpx, HTTP/2, gzip, brotli and zstd): one GET with the
safety checks of :mod:`pipeline.feeds.safety` at every hop, redirects followed by hand (a loop
or too many refused), a time limit over the whole fetch, a size limit on the decoded body (so a
decompression bomb is cut off, not inflated), conditional GET, and Retry-After read from 429
and 503 answers."""

from __future__ import annotations

import asyncio
import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from pipeline.feeds.safety import FetchError, FetchReason, GuardedBackend, check_url, networks
from pipeline.settings import Settings

HTML_TYPES = ("text/html", "application/xhtml+xml")
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetch's answer: 200 with its body, or 304 (not modified) without one."""

    url: str
    """The URL answered, after redirects."""
    status: int
    content_type: str
    body: bytes
    etag: str | None
    last_modified: str | None
    wire_bytes: int
    """Bytes as they came over the network (compressed)."""


def retry_after(value: str | None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def host_of(url: str) -> str:
    """The host (and port, if any) a URL is fetched from: the key of per-host limits."""
    return urlsplit(url).netloc.lower().rsplit("@", 1)[-1]


class Fetcher:
    """GETs under the settings' limits, with the settings' User-Agent."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._allowed = networks(settings.feeds_allowed_networks)
        transport = httpx.AsyncHTTPTransport(http2=True)
        # httpx takes no network backend: its pool is replaced by one with the guarded backend
        # (a proxy from HTTP(S)_PROXY is mounted apart and connects as httpx does)
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=settings.feeds_concurrency,
            http1=True,
            http2=True,
            network_backend=GuardedBackend(self._allowed),
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=settings.feeds_fetch_timeout_s,
            headers={"user-agent": settings.feeds_user_agent},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        accept: str,
        html_only: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """GET ``url``; raises :class:`FetchError` with the reason when there is no body to
        use. ``html_only`` refuses any other content type before reading the body."""
        headers = {"accept": accept}
        if etag:
            headers["if-none-match"] = etag
        if last_modified:
            headers["if-modified-since"] = last_modified
        limit = self._settings.feeds_fetch_timeout_s
        try:
            async with asyncio.timeout(limit):
                return await self._follow(url, headers, html_only)
        except TimeoutError:
            raise FetchError(FetchReason.TIMEOUT, f"{url}: no answer within {limit:g}s") from None
        except httpx.TransportError as exc:
            raise FetchError(FetchReason.CONNECTION, f"{url}: {exc!r}") from None

    async def _follow(self, url: str, headers: dict[str, str], html_only: bool) -> Fetched:
        visited = {url}
        for _ in range(self._settings.feeds_max_redirects + 1):
            await check_url(url, self._allowed)
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    url = urljoin(url, location)
                    if url in visited:
                        raise FetchError(FetchReason.REDIRECT_LOOP, f"{url}: redirect loop")
                    visited.add(url)
                    continue
                return await self._answer(url, response, html_only)
            finally:
                await response.aclose()
        raise FetchError(
            FetchReason.TOO_MANY_REDIRECTS,
            f"{url}: more than {self._settings.feeds_max_redirects} redirects",
        )

    async def _answer(self, url: str, response: httpx.Response, html_only: bool) -> Fetched:
        status = response.status_code
        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if status in (429, 503):
            reason = FetchReason.RATE_LIMITED if status == 429 else FetchReason.SERVER_ERROR
            wait = retry_after(response.headers.get("retry-after"))
            raise FetchError(reason, f"{url}: HTTP {status}", retry_after=wait)
        if status >= 500:
            raise FetchError(FetchReason.SERVER_ERROR, f"{url}: HTTP {status}")
        if status != 304 and not 200 <= status < 300:
            raise FetchError(FetchReason.CLIENT_ERROR, f"{url}: HTTP {status}")
        if status == 200 and html_only and content_type not in HTML_TYPES:
            raise FetchError(FetchReason.NOT_HTML, f"{url}: {content_type or 'no'} content type")
        body = b"" if status == 304 else await self._body(url, response)
        return Fetched(
            url=url,
            status=status,
            content_type=content_type,
            body=body,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            wire_bytes=response.num_bytes_downloaded,
        )

    async def _body(self, url: str, response: httpx.Response) -> bytes:
        limit = self._settings.feeds_max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(FetchReason.TOO_LARGE, f"{url}: {declared} bytes announced")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():  # decoded: a bomb is cut off here
            size += len(chunk)
            if size > limit:
                raise FetchError(FetchReason.TOO_LARGE, f"{url}: more than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
