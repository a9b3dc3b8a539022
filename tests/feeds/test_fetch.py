"""The feed reader's HTTP client against a local server: limits, redirects, safety, conditional
GET. The server is on loopback, which the settings allow (``MEDIAMON_FEEDS_ALLOWED_NETWORKS``);
every other non-public address stays refused."""

from __future__ import annotations

import asyncio
import gzip
import socket
from typing import Any

import pytest

from pipeline.feeds.fetch import Fetched, Fetcher, retry_after
from pipeline.feeds.safety import FetchError, FetchReason
from pipeline.settings import Settings
from tests.feeds.conftest import FEEDS, Answer, Site

LOOPBACK = ["127.0.0.0/8"]


def get(settings: Settings, url: str, **options: object) -> Fetched:
    async def fetch() -> Fetched:
        fetcher = Fetcher(settings)
        try:
            return await fetcher.get(url, accept="*/*", **options)  # type: ignore[arg-type]
        finally:
            await fetcher.close()

    return asyncio.run(fetch())


def refused(settings: Settings, url: str, **options: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        get(settings, url, **options)
    return caught.value


def test_a_page_is_fetched_with_the_user_agent_of_the_settings(site: Site) -> None:
    site.serve("/a", FEEDS / "article.html", "text/html; charset=utf-8")
    settings = Settings(feeds_allowed_networks=LOOPBACK, feeds_user_agent="test-agent/1")
    fetched = get(settings, site.url("/a"), html_only=True)
    assert fetched.status == 200
    assert b"Ferry timetable" in fetched.body
    assert fetched.content_type == "text/html"
    assert site.requests[-1][1]["user-agent"] == "test-agent/1"


def test_loopback_is_refused_unless_allowed(site: Site) -> None:
    site.serve("/a", FEEDS / "article.html", "text/html")
    error = refused(Settings(), site.url("/a"))
    assert error.reason == FetchReason.PRIVATE_ADDRESS
    assert site.hits("/a") == 0


def test_a_redirect_to_a_private_address_is_refused(site: Site) -> None:
    site.routes["/go"] = Answer(302, {"location": "http://10.20.30.40/internal"})
    site.routes["/meta"] = Answer(301, {"location": "http://169.254.169.254/latest/meta-data"})
    settings = Settings(feeds_allowed_networks=LOOPBACK)
    assert refused(settings, site.url("/go")).reason == FetchReason.PRIVATE_ADDRESS
    assert refused(settings, site.url("/meta")).reason == FetchReason.PRIVATE_ADDRESS


def test_a_host_that_rebinds_to_loopback_after_the_check_is_never_connected_to(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first lookup of the host answers a public address, every later one
    the loopback address of the local server; the reader must not reach the server."""
    site.serve("/a", FEEDS / "article.html", "text/html")
    port = int(site.url("/").rsplit(":", 1)[1].split("/", 1)[0])
    lookups = []
    original = asyncio.BaseEventLoop.getaddrinfo

    async def rebinding(self: asyncio.BaseEventLoop, host: Any, *args: Any, **kw: Any) -> Any:
        if host != "rebind.example":
            return await original(self, host, *args, **kw)
        lookups.append(host)
        address = "93.184.216.34" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", rebinding)
    error = refused(Settings(), f"http://rebind.example:{port}/a")
    assert error.reason == FetchReason.PRIVATE_ADDRESS
    assert len(lookups) == 2  # the check's, and the connection's own
    assert site.hits("/a") == 0


def test_only_http_and_https(site: Site) -> None:
    site.routes["/ftp"] = Answer(302, {"location": "ftp://files.example/a"})
    settings = Settings(feeds_allowed_networks=LOOPBACK)
    assert refused(settings, "file:///etc/passwd").reason == FetchReason.SCHEME
    assert refused(settings, site.url("/ftp")).reason == FetchReason.SCHEME


def test_a_redirect_loop_and_too_many_redirects(site: Site) -> None:
    site.routes["/a"] = Answer(302, {"location": "/b"})
    site.routes["/b"] = Answer(302, {"location": "/a"})
    for n in range(5):
        site.routes[f"/hop{n}"] = Answer(301, {"location": f"/hop{n + 1}"})
    settings = Settings(feeds_allowed_networks=LOOPBACK, feeds_max_redirects=3)
    assert refused(settings, site.url("/a")).reason == FetchReason.REDIRECT_LOOP
    assert refused(settings, site.url("/hop0")).reason == FetchReason.TOO_MANY_REDIRECTS
    assert site.hits("/hop3") == 1
    assert site.hits("/hop4") == 0


def test_a_redirect_is_followed(site: Site) -> None:
    site.routes["/old"] = Answer(301, {"location": "/new"})
    site.serve("/new", FEEDS / "article.html", "text/html")
    fetched = get(Settings(feeds_allowed_networks=LOOPBACK), site.url("/old"))
    assert fetched.url == site.url("/new")


def test_a_slow_server_times_out(site: Site) -> None:
    site.routes["/slow"] = Answer(body=b"late", delay_s=3)
    settings = Settings(feeds_allowed_networks=LOOPBACK, feeds_fetch_timeout_s=0.5)
    assert refused(settings, site.url("/slow")).reason == FetchReason.TIMEOUT


def test_an_oversized_page_and_a_decompression_bomb_are_refused(site: Site) -> None:
    site.routes["/big"] = Answer(headers={"content-type": "text/html"}, body=b"x" * 5000)
    bomb = gzip.compress(b"<p>" + b"a" * 1_000_000)
    site.routes["/bomb"] = Answer(
        headers={"content-type": "text/html", "content-encoding": "gzip"}, body=bomb
    )
    settings = Settings(feeds_allowed_networks=LOOPBACK, feeds_max_bytes=4096)
    assert len(bomb) < 4096
    assert refused(settings, site.url("/big")).reason == FetchReason.TOO_LARGE
    assert refused(settings, site.url("/bomb")).reason == FetchReason.TOO_LARGE


def test_a_compressed_page_is_decoded(site: Site) -> None:
    body = b"<html><body><p>hello</p></body></html>"
    site.routes["/gz"] = Answer(
        headers={"content-type": "text/html", "content-encoding": "gzip"}, body=gzip.compress(body)
    )
    fetched = get(Settings(feeds_allowed_networks=LOOPBACK), site.url("/gz"))
    assert fetched.body == body


def test_a_page_that_is_not_html_is_refused_when_html_is_wanted(site: Site) -> None:
    site.routes["/doc.pdf"] = Answer(headers={"content-type": "application/pdf"}, body=b"%PDF-1.4")
    settings = Settings(feeds_allowed_networks=LOOPBACK)
    assert refused(settings, site.url("/doc.pdf"), html_only=True).reason == FetchReason.NOT_HTML
    assert get(settings, site.url("/doc.pdf")).body == b"%PDF-1.4"


def test_conditional_get_gives_304_without_a_body(site: Site) -> None:
    def feed(headers: dict[str, str]) -> Answer:
        if headers.get("if-none-match") == '"v1"':
            return Answer(304, {"etag": '"v1"'})
        return Answer(
            headers={"content-type": "application/rss+xml", "etag": '"v1"'}, body=b"<rss/>"
        )

    site.routes["/rss"] = feed
    settings = Settings(feeds_allowed_networks=LOOPBACK)
    first = get(settings, site.url("/rss"))
    assert (first.status, first.etag) == (200, '"v1"')
    second = get(settings, site.url("/rss"), etag=first.etag)
    assert (second.status, second.body) == (304, b"")


def test_429_and_503_carry_retry_after(site: Site) -> None:
    site.routes["/busy"] = Answer(429, {"retry-after": "120"})
    site.routes["/down"] = Answer(503, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
    site.routes["/gone"] = Answer(410)
    settings = Settings(feeds_allowed_networks=LOOPBACK)
    busy = refused(settings, site.url("/busy"))
    assert (busy.reason, busy.retry_after) == (FetchReason.RATE_LIMITED, 120.0)
    down = refused(settings, site.url("/down"))
    assert (down.reason, down.retry_after) == (FetchReason.SERVER_ERROR, 0.0)
    assert refused(settings, site.url("/gone")).reason == FetchReason.CLIENT_ERROR


def test_retry_after_forms() -> None:
    assert retry_after("30") == 30.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
