"""Feeds and sitemaps to entries: RSS, Atom, JSON Feed, a Google News sitemap, a sitemap index,
and bytes that are none of them."""

from __future__ import annotations

import pytest

from pipeline.feeds.parse import Entry, MalformedFeed, parse_feed
from tests.feeds.conftest import FEEDS


def test_rss_entries_resolve_relative_links_and_read_dates_and_authors() -> None:
    parsed = parse_feed(
        (FEEDS / "rss.xml").read_bytes(), "application/rss+xml", "http://h.example/rss"
    )
    assert parsed.title == "Harbour Gazette"
    assert [e.url for e in parsed.entries] == [
        "http://h.example/news/ferry-timetable",
        "http://h.example/news/fish-market?utm_source=rss",
    ]
    first = parsed.entries[0]
    assert first.title == "Ferry timetable changes next week"
    assert first.date == "2026-12-07T08:00:00+00:00"
    assert first.author is not None
    assert "Mira Olsen" in first.author


def test_atom_entry() -> None:
    parsed = parse_feed(
        (FEEDS / "atom.xml").read_bytes(), "application/atom+xml", "https://v.example/"
    )
    assert parsed.entries == [
        Entry(
            url="https://valley.example/bridge-repairs",
            title="Bridge repairs finish early",
            date="2026-12-07T10:00:00+00:00",
            author="Tom Berg",
        )
    ]


def test_json_feed_skips_an_item_without_a_link() -> None:
    parsed = parse_feed(
        (FEEDS / "feed.json").read_bytes(),
        "application/feed+json",
        "https://hill.example/feed.json",
    )
    assert parsed.title == "Hill Post"
    assert parsed.entries == [
        Entry(
            url="https://hill.example/stories/orchard",
            title="Orchard harvest breaks record",
            date="2026-12-06T07:00:00Z",
            author="Ana Ruiz",
        )
    ]


def test_news_sitemap_gives_the_news_title_and_date_else_lastmod() -> None:
    parsed = parse_feed(
        (FEEDS / "news-sitemap.xml").read_bytes(), "application/xml", "https://coast.example/s.xml"
    )
    assert parsed.entries == [
        Entry(
            url="https://coast.example/2026/12/07/lighthouse",
            title="Lighthouse reopens to visitors",
            date="2026-12-07T06:15:00+00:00",
        ),
        Entry(url="https://coast.example/2026/12/06/tides", date="2026-12-06"),
    ]


def test_sitemap_index_names_its_sitemaps() -> None:
    parsed = parse_feed(
        (FEEDS / "sitemap-index.xml").read_bytes(), "text/xml", "https://coast.example/index.xml"
    )
    assert parsed.entries == []
    assert parsed.sitemaps == ["https://coast.example/news-sitemap.xml"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ((FEEDS / "malformed.xml").read_bytes(), "text/html"),
        (b'{"title": "not a JSON feed"}', "application/json"),
        (b"{broken", "application/feed+json"),
    ],
)
def test_what_is_no_feed_is_malformed(body: bytes, content_type: str) -> None:
    with pytest.raises(MalformedFeed):
        parse_feed(body, content_type, "https://x.example/feed")


def test_entities_are_not_expanded_in_a_sitemap() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://x.example/&b;</loc></url></urlset>"
    )
    parsed = parse_feed(bomb, "application/xml", "https://x.example/s.xml")
    assert all("aaaaaaaaaa" not in e.url for e in parsed.entries)
