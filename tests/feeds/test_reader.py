"""Poll rounds of the feed reader against a local HTTP server and the embedded broker: each new
article once (also after a restart), 304s, robots.txt, a malformed feed beside a good one, a
feed that changes its items, pages that are not HTML."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from pipeline.feeds.lists import FeedSet
from pipeline.feeds.reader import FeedReader, Round, SeenUrls
from pipeline.metrics import Metrics
from pipeline.models import Feed
from pipeline.settings import Settings
from pipeline.transport.client import Producer, connection_options, ensure_topics, tail
from pipeline.transport.compacted import read_whole
from tests.feeds.conftest import FEEDS, Answer, Site

pytestmark = pytest.mark.integration

RSS = (FEEDS / "rss.xml").read_text()
ARTICLE = (FEEDS / "article.html").read_bytes()


@pytest.fixture
def polite(settings: Settings) -> Settings:
    """The test's settings, loopback allowed, every feed due again after a few milliseconds."""
    ensure_topics(settings)
    return settings.model_copy(
        update={
            "feeds_allowed_networks": ["127.0.0.0/8"],
            "feeds_host_interval_s": 0.0,
            "feeds_poll_min_s": 0.01,
            "feeds_poll_max_s": 0.02,
            "feeds_fetch_timeout_s": 5.0,
        }
    )


def rounds(
    settings: Settings, feeds: Sequence[Feed], count: int, metrics: Metrics | None = None
) -> list[Round]:
    """``count`` poll rounds of a reader that first reads the feeds-seen topic (as a restarted
    reader would)."""
    seen = SeenUrls()
    read_whole(settings, settings.topic_feeds_seen, seen.apply)
    producer = Producer(settings)

    async def poll() -> list[Round]:
        reader = FeedReader(settings, metrics or Metrics(), FeedSet(feeds), seen, producer)
        done = []
        try:
            for _ in range(count):
                await asyncio.sleep(0.05)
                summary = await reader.round()
                assert summary is not None
                done.append(summary)
        finally:
            await reader.close()
        return done

    try:
        return asyncio.run(poll())
    finally:
        producer.close()


def ingested(settings: Settings) -> list[dict[str, object]]:
    values = tail(settings, [settings.topic_raw], from_beginning=True, idle_timeout=2)
    return [json.loads(value) for value in values]


def serve_rss(site: Site, text: str = RSS) -> Feed:
    site.routes["/rss.xml"] = Answer(
        headers={"content-type": "application/rss+xml"}, body=text.encode()
    )
    for path in ("/news/ferry-timetable", "/news/fish-market?utm_source=rss", "/news/third"):
        site.routes[path] = Answer(
            headers={"content-type": "text/html; charset=utf-8"}, body=ARTICLE
        )
    return Feed(url=site.url("/rss.xml"))


def test_each_new_article_is_produced_once_also_after_a_restart(
    polite: Settings, site: Site
) -> None:
    feed = serve_rss(site)
    metrics = Metrics()
    first, second = rounds(polite, [feed], 2, metrics)
    assert (first.produced, first.polled["new"]) == (2, 1)
    assert (second.produced, second.polled["unchanged"]) == (0, 1)
    (restarted,) = rounds(polite, [feed], 1)
    assert restarted.produced == 0
    assert site.hits("/news/ferry-timetable") == 1
    assert site.hits("/rss.xml") == 3
    records = ingested(polite)
    assert sorted(str(r["url"]) for r in records) == [
        site.url("/news/ferry-timetable"),
        site.url("/news/fish-market?utm_source=rss"),
    ]
    ferry = next(r for r in records if str(r["url"]).endswith("ferry-timetable"))
    assert ferry["title"] == "Ferry timetable changes next week"
    assert ferry["date"] == "2026-12-07T08:00:00+00:00"
    assert ferry["source"] == "Harbour Gazette"
    assert ferry["feed"] == feed.url
    assert "the morning ferry to the island" in str(ferry["html"])
    items = metrics.feed_items.labels(feed=feed.url)._value.get()
    assert items == 2


def test_the_key_is_the_canonical_url(polite: Settings, site: Site) -> None:
    feed = serve_rss(site)
    rounds(polite, [feed], 1)
    keys = {record.key for record in _records(polite, polite.topic_raw)}
    assert keys == {
        site.url("/news/ferry-timetable").encode(),
        site.url("/news/fish-market").encode(),
    }


def _records(settings: Settings, topic: str) -> list[Any]:
    consumer = KafkaConsumer(**connection_options(settings), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found: list[Any] = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for batch in consumer.poll(timeout_ms=500).values():
                found += batch
        return found
    finally:
        consumer.close()


def test_a_feed_answering_304_is_not_modified(polite: Settings, site: Site) -> None:
    body = RSS.encode()

    def feed(headers: dict[str, str]) -> Answer:
        if headers.get("if-none-match") == '"r1"':
            return Answer(304, {"etag": '"r1"'})
        return Answer(headers={"content-type": "application/rss+xml", "etag": '"r1"'}, body=body)

    serve_rss(site)
    site.routes["/rss.xml"] = feed
    first, second, third = rounds(polite, [Feed(url=site.url("/rss.xml"))], 3)
    assert first.polled["new"] == 1
    assert second.polled["not_modified"] == third.polled["not_modified"] == 1
    conditional = [h for p, h in site.requests if p == "/rss.xml"]
    assert "if-none-match" not in conditional[0]
    assert [h.get("if-none-match") for h in conditional[1:]] == ['"r1"', '"r1"']


def test_pages_robots_txt_disallows_are_not_fetched(polite: Settings, site: Site) -> None:
    feed = serve_rss(site)
    site.routes["/robots.txt"] = Answer(
        headers={"content-type": "text/plain"}, body=b"User-agent: *\nDisallow: /news/fish\n"
    )
    metrics = Metrics()
    first, second = rounds(polite, [feed], 2, metrics)
    assert first.produced == 1
    assert first.refused == {"robots": 1}
    assert second.refused == {}  # refused for good: not tried again
    assert site.hits("/news/fish-market?utm_source=rss") == 0
    host = site.base.split("://")[1]
    assert metrics.feed_fetch_errors.labels(host=host, reason="robots")._value.get() == 1


def test_a_malformed_feed_fails_and_the_others_go_on(polite: Settings, site: Site) -> None:
    good = serve_rss(site)
    site.serve("/broken.xml", FEEDS / "malformed.xml", "application/rss+xml")
    broken = Feed(url=site.url("/broken.xml"))
    metrics = Metrics()
    (summary,) = rounds(polite, [broken, good], 1, metrics)
    assert summary.polled == {"failed": 1, "new": 1}
    assert summary.produced == 2
    assert metrics.feed_polls.labels(feed=broken.url, outcome="failed")._value.get() == 1
    host = site.base.split("://")[1]
    assert metrics.feed_fetch_errors.labels(host=host, reason="malformed")._value.get() == 1


def test_a_feed_that_changes_its_items_gives_only_the_new_ones(
    polite: Settings, site: Site
) -> None:
    feed = serve_rss(site)

    def changing(headers: dict[str, str]) -> Answer:
        text = RSS
        if site.hits("/rss.xml") > 1:  # from the second poll on: a third item, the first gone
            start = text.index("<item>")
            end = text.index("</item>") + len("</item>")
            text = (
                text[:start]
                + "<item><title>Third</title><link>/news/third</link></item>"
                + text[end:]
            )
        return Answer(headers={"content-type": "application/rss+xml"}, body=text.encode())

    site.routes["/rss.xml"] = changing
    first, second = rounds(polite, [feed], 2)
    assert (first.produced, second.produced) == (2, 1)
    assert site.hits("/news/third") == 1
    urls = [str(r["url"]) for r in ingested(polite)]
    assert urls.count(site.url("/news/third")) == 1
    assert len(urls) == 3


def test_a_page_that_is_not_html_is_skipped_with_its_reason(polite: Settings, site: Site) -> None:
    feed = serve_rss(site)
    site.routes["/news/ferry-timetable"] = Answer(
        headers={"content-type": "application/pdf"}, body=b"%PDF"
    )
    (summary,) = rounds(polite, [feed], 1)
    assert summary.produced == 1
    assert summary.refused == {"not_html": 1}
    assert "refused: not_html 1" in summary.line(None)
