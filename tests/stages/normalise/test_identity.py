"""Tests of canonical URLs, registered domains, article ids and content hashes."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.models import Article
from pipeline.stages.normalise.identity import (
    article_id,
    canonical_url,
    content_hash,
    registered_domain,
)

ID_RE = re.compile(r"a-[0-9a-f]{24}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example-news.com/a/b", "https://www.example-news.com/a/b"),
        ("  HTTPS://WWW.Example-News.COM/A/b  ", "https://www.example-news.com/A/b"),
        ("http://example-news.com", "http://example-news.com/"),
        ("https://example-news.com/a/b/", "https://example-news.com/a/b"),
        ("https://example-news.com/a#comments", "https://example-news.com/a"),
        ("https://example-news.com:443/a", "https://example-news.com/a"),
        ("http://example-news.com:80/a", "http://example-news.com/a"),
        ("https://example-news.com:8443/a", "https://example-news.com:8443/a"),
        ("https://user:pw@example-news.com/a", "https://example-news.com/a"),
        ("https://example-news.com/a/./b/../c", "https://example-news.com/a/c"),
        ("https://example-news.com/caf%c3%a9%7e", "https://example-news.com/caf%C3%A9~"),
        ("https://example-news.com/café", "https://example-news.com/caf%C3%A9"),
        ("https://example-news.com/a%2Fb", "https://example-news.com/a%2Fb"),
        ("https://example-news.com/a?b=2&a=1", "https://example-news.com/a?a=1&b=2"),
        (
            "https://example-news.com/a?utm_source=x&UTM_MEDIUM=y&fbclid=z&gclid=w&page=2",
            "https://example-news.com/a?page=2",
        ),
        ("https://example-news.com/a?", "https://example-news.com/a"),
        (
            "https://пример.рф/статья",
            "https://xn--e1afmkfd.xn--p1ai/%D1%81%D1%82%D0%B0%D1%82%D1%8C%D1%8F",
        ),
        ("http://192.0.2.7/a", "http://192.0.2.7/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "not a url",
        "example-news.com/a",
        "ftp://example-news.com/a",
        "mailto:someone@example-news.com",
        "javascript:alert(1)",
        "http://",
        "https://localhost/a",
        "https://exa mple.com/a",
        "https://example-news.com:99999/a",
        "https://[::1/a",
        "https://exa\x00mple.com/",
    ],
)
def test_canonical_url_rejects_unusable_urls(url: str) -> None:
    assert canonical_url(url) is None


_URLS = st.builds(
    lambda scheme, host, path, query, fragment: f"{scheme}://{host}/{path}?{query}#{fragment}",
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["example-news.com", "WWW.Example-News.com", "a.b.co.uk", "пример.рф"]),
    st.text(max_size=30),
    st.text(max_size=30),
    st.text(max_size=10),
)


@settings(max_examples=200, deadline=None)
@given(url=_URLS)
def test_canonical_url_is_idempotent(url: str) -> None:
    canonical = canonical_url(url)
    if canonical is not None:
        assert canonical_url(canonical) == canonical


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("www.themoscowtimes.com/2015/10/15/story", "themoscowtimes.com"),
        ("https://www.themoscowtimes.com/2015/10/15/story", "themoscowtimes.com"),
        ("https://news.bbc.co.uk/a", "bbc.co.uk"),
        ("http://WWW.Example-News.COM:8080/a", "example-news.com"),
        ("https://someone.blogspot.com/post", "someone.blogspot.com"),
        ("https://www.abc.net.au/news", "abc.net.au"),
        ("https://пример.рф/a", "xn--e1afmkfd.xn--p1ai"),
        ("example-news.com", "example-news.com"),
        ("https://www.markets-daily.example/2026/a", "markets-daily.example"),
        ("http://wire.newsroom.internal/a", "newsroom.internal"),
    ],
)
def test_registered_domain(url: str, expected: str) -> None:
    assert registered_domain(url) == expected


@pytest.mark.parametrize(
    "url",
    ["", "not a url", "http://192.0.2.7/a", "http://localhost/a", "https://co.uk/", "http://["],
)
def test_registered_domain_of_unusable_hosts(url: str) -> None:
    assert registered_domain(url) is None


def _article(url: str | None = None, title: str | None = "Title", body: str = "Body.") -> Article:
    return Article(url=url, title=title, body=body)


def test_article_id_format() -> None:
    assert ID_RE.fullmatch(article_id(_article("https://example-news.com/a")))
    assert ID_RE.fullmatch(article_id(_article()))


def test_article_id_from_url_ignores_url_variants_and_content() -> None:
    ids = {
        article_id(_article("https://www.example-news.com/a", body="One.")),
        article_id(_article("http://example-news.com/a/", body="Two.")),
        article_id(_article("https://example-news.com/a?utm_source=feed#top", title=None)),
    }
    assert len(ids) == 1


def test_article_id_differs_between_urls() -> None:
    assert article_id(_article("https://example-news.com/a")) != article_id(
        _article("https://example-news.com/b")
    )


def test_article_id_without_url_is_from_title_and_body() -> None:
    one = article_id(_article(title="A Title", body="Some  body\ntext."))
    assert one == article_id(_article(title="a title", body=" some body TEXT. "))
    assert one != article_id(_article(title="Other title", body="Some body text."))
    assert one != article_id(_article(title="A Title", body="Other body text."))


def test_article_id_with_unusable_url_falls_back_to_content() -> None:
    assert article_id(_article("not a url")) == article_id(_article(None))


def test_article_id_is_stable() -> None:
    expected = "a-" + hashlib.sha256(b"url:example-news.com/a").hexdigest()[:24]
    assert article_id(_article("https://www.example-news.com/a")) == expected


def test_content_hash() -> None:
    assert content_hash("Hello world") == hashlib.sha256(b"hello world").hexdigest()
    assert content_hash("  HELLO\n\n\tWorld ") == content_hash("hello world")
    assert content_hash("hello\u00a0world") == content_hash("hello world")
    assert content_hash("Cafe\u0301") == content_hash("Caf\u00e9")
    assert content_hash("hello world") != content_hash("hello, world")
