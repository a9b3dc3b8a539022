"""A feed's bytes to its entries: RSS and Atom (feedparser), JSON Feed, and sitemaps (a
``urlset``, with the Google News extension's title, date and publication, or a
``sitemapindex`` naming further sitemaps). Pure: no network; entity expansion and network
access are off in the XML parser."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
import orjson
from lxml import etree


class MalformedFeed(ValueError):
    """The bytes are neither a feed nor a sitemap that can be read."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a feed: an article's URL and what the feed says about it."""

    url: str
    title: str | None = None
    date: str | None = None
    """ISO 8601, as the feed gives it or as feedparser reads it."""
    author: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    entries: list[Entry]
    sitemaps: list[str] = field(default_factory=list)
    """The sitemaps a sitemap index names (polled as feeds of their own)."""


_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


def parse_feed(body: bytes, content_type: str, url: str) -> ParsedFeed:
    """The entries of ``body`` fetched from ``url``; relative links are resolved against it."""
    head = body.lstrip()[:1]
    if head in (b"{", b"[") or "json" in content_type:
        return _json_feed(body, url)
    root = _xml_root(body)
    if root is not None and _local(root.tag) in ("urlset", "sitemapindex"):
        return _sitemap(root, url)
    return _rss_or_atom(body, content_type, url)


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedFeed(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or "jsonfeed.org" not in str(document.get("version", "")):
        raise MalformedFeed("JSON, but not a JSON Feed (no jsonfeed.org version)")
    entries = []
    for item in document.get("items") or []:
        if not isinstance(item, dict):
            continue
        link = _text(item.get("url")) or _text(item.get("external_url"))
        if link is None:
            continue
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        names = [_text(a.get("name")) for a in authors if isinstance(a, dict)]
        entries.append(
            Entry(
                url=urljoin(url, link),
                title=_text(item.get("title")),
                date=_text(item.get("date_published")) or _text(item.get("date_modified")),
                author=", ".join(n for n in names if n) or None,
            )
        )
    return ParsedFeed(_text(document.get("title")), entries)


def _xml_root(body: bytes) -> Any:
    try:
        return etree.fromstring(body, parser=_XML)
    except etree.XMLSyntaxError:
        return None


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: Any, *path: str) -> Any:
    """The first descendant along ``path`` of local names (namespaces ignored), or None."""
    for name in path:
        element = next((c for c in element if _local(c.tag) == name), None)
        if element is None:
            return None
    return element


def _child_text(element: Any, *path: str) -> str | None:
    found = _child(element, *path)
    return None if found is None else _text(found.text)


def _sitemap(root: Any, url: str) -> ParsedFeed:
    if _local(root.tag) == "sitemapindex":
        locs = [_child_text(s, "loc") for s in root if _local(s.tag) == "sitemap"]
        return ParsedFeed(None, [], [urljoin(url, loc) for loc in locs if loc])
    entries = []
    for node in root:
        loc = _child_text(node, "loc") if _local(node.tag) == "url" else None
        if loc is None:
            continue
        entries.append(
            Entry(
                url=urljoin(url, loc),
                title=_child_text(node, "news", "title"),
                date=_child_text(node, "news", "publication_date") or _child_text(node, "lastmod"),
                author=None,
            )
        )
    return ParsedFeed(None, entries)


def _iso(parsed: time.struct_time | None) -> str | None:
    if parsed is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()


def _rss_or_atom(body: bytes, content_type: str, url: str) -> ParsedFeed:
    parsed = feedparser.parse(
        body, response_headers={"content-type": content_type, "content-location": url}
    )
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no RSS, Atom, JSON Feed or sitemap found"
        raise MalformedFeed(str(reason))
    entries = []
    for item in parsed.entries:
        link = _text(item.get("link"))
        if link is None:
            continue
        entries.append(
            Entry(
                url=urljoin(url, link),
                title=_text(item.get("title")),
                date=_iso(item.get("published_parsed") or item.get("updated_parsed"))
                or _text(item.get("published")),
                author=_text(item.get("author")),
            )
        )
    return ParsedFeed(_text(parsed.feed.get("title")), entries)
