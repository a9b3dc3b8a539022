"""The feed reader: poll rounds over the feeds that are due, each new article fetched once and
produced to the ingest topic (key: its canonical URL, the normaliser's), then marked seen on the
feeds-seen topic. A URL is marked only after its article is acknowledged, so a crash may fetch
one again (the worker's duplicate detection catches the copy) but never loses one. A page
refused for good (robots.txt, not HTML, too large, 4xx...) is marked too; one that failed for a
while (timeout, 5xx...) is tried again at the feed's next poll. A failing feed is retried later
and never stops the others."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.feeds.fetch import Fetched, Fetcher, host_of
from pipeline.feeds.hosts import Hosts
from pipeline.feeds.lists import FeedSet
from pipeline.feeds.parse import Entry, MalformedFeed, parse_feed
from pipeline.feeds.safety import TRANSIENT, FetchError, FetchReason
from pipeline.feeds.schedule import Schedule
from pipeline.metrics import Metrics
from pipeline.models import Feed, FeedItem, Rejected, SeenUrl, encode
from pipeline.settings import Settings
from pipeline.stages.normalise.decoding import decode
from pipeline.stages.normalise.identity import canonical_url
from pipeline.transport.client import Producer

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9,"
    " text/xml;q=0.9, */*;q=0.5"
)
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9"
_MAX_CHILD_SITEMAPS = 20


class SeenUrls:
    """The canonical article URLs every reader is done with (the feeds-seen topic's keys)."""

    def __init__(self) -> None:
        self.urls: set[str] = set()

    def apply(self, key: bytes | None, value: bytes | None, where: str) -> None:
        """One record of the feeds-seen topic: a URL, or a tombstone that forgets it."""
        if key is None:
            return
        url = key.decode("utf-8", "replace")
        if value is None:
            self.urls.discard(url)
        else:
            self.urls.add(url)


@dataclass
class Round:
    """What one poll round did (its progress line)."""

    number: int
    polled: Counter[str] = field(default_factory=Counter)
    produced: int = 0
    refused: Counter[str] = field(default_factory=Counter)

    def line(self, next_in: float | None) -> str:
        outcomes = ", ".join(f"{n} {o.replace('_', ' ')}" for o, n in sorted(self.polled.items()))
        text = f"feeds round {self.number}: {sum(self.polled.values())} polled ({outcomes}),"
        text += f" {self.produced} article(s) produced"
        if self.refused:
            text += ", refused: " + ", ".join(f"{r} {n}" for r, n in sorted(self.refused.items()))
        if next_in is not None:
            text += f"; next poll in {next_in:.0f}s"
        return text


@dataclass
class _FeedState:
    schedule: Schedule
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A new entry's page: an item to produce, a reason it is refused for good, or neither (a
    transient failure: tried again next time)."""

    key: str
    item: FeedItem | None = None
    refused: FetchReason | None = None


class FeedReader:
    """Polls the feeds of ``feeds`` that are due and this reader's (``owns(url)``: its share
    when several readers split the feeds) and produces their new articles."""

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        feeds: FeedSet,
        seen: SeenUrls,
        producer: Producer,
        owns: Callable[[str], bool] = lambda url: True,
    ) -> None:
        self._settings = settings
        self._owns = owns
        self._metrics = metrics
        self._feeds = feeds
        self._seen = seen
        self._producer = producer
        self._fetcher = Fetcher(settings)
        self._hosts = Hosts(settings, self._fetcher)
        self._limit = asyncio.Semaphore(settings.feeds_concurrency)
        self._states: dict[str, _FeedState] = {}
        self._claimed: set[str] = set()
        self._rounds = 0

    async def close(self) -> None:
        await self._fetcher.close()

    def _state(self, feed: Feed) -> _FeedState:
        if feed.url not in self._states:
            self._states[feed.url] = _FeedState(Schedule(self._settings, time.monotonic()))
            self._metrics.init_feed(feed.url, time.time())
        return self._states[feed.url]

    def next_in(self) -> float | None:
        """Seconds until the next feed is due (None without feeds)."""
        dues = [self._state(feed).schedule.due for feed in self._mine()]
        return max(0.0, min(dues) - time.monotonic()) if dues else None

    def _mine(self) -> list[Feed]:
        return [feed for feed in self._feeds.active if self._owns(feed.url)]

    async def round(self) -> Round | None:
        """Poll every feed that is due; None when none is."""
        feeds = [(feed, self._state(feed)) for feed in self._mine()]
        now = time.monotonic()
        due = [feed for feed, state in feeds if state.schedule.due <= now]
        if not due:
            return None
        self._rounds += 1
        summary = Round(self._rounds)
        await asyncio.gather(*(self._poll(feed, summary) for feed in due))
        return summary

    async def run(self, stop: asyncio.Event, echo: Callable[[str], None], once: bool) -> None:
        """Poll rounds until ``stop`` is set (after one round with ``once``)."""
        while not stop.is_set():
            summary = await self.round()
            if summary is not None:
                echo(summary.line(None if once else self.next_in()))
                if once:
                    return
            wait = self.next_in()
            with contextlib.suppress(TimeoutError):  # at least every second: feeds may change
                await asyncio.wait_for(stop.wait(), timeout=min(wait if wait else 1.0, 1.0))

    async def _get(
        self,
        url: str,
        accept: str,
        html_only: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """A fetch under the global and per-host limits, counted by host."""
        host = host_of(url)
        async with self._limit, self._hosts.slot(url):
            start = time.monotonic()
            try:
                fetched = await self._fetcher.get(
                    url, accept=accept, html_only=html_only, etag=etag, last_modified=last_modified
                )
            except FetchError as exc:
                self._hosts.answered(url, exc)
                self._metrics.feed_fetch_errors.labels(host=host, reason=exc.reason.value).inc()
                raise
        self._hosts.answered(url, None)
        self._metrics.feed_fetch_seconds.labels(host=host).observe(time.monotonic() - start)
        self._metrics.feed_bytes.labels(host=host).inc(fetched.wire_bytes)
        return fetched

    async def _allowed(self, url: str) -> None:
        if not await self._hosts.allowed(url):
            reason = FetchReason.ROBOTS
            self._metrics.feed_fetch_errors.labels(host=host_of(url), reason=reason.value).inc()
            raise FetchError(reason, f"{url}: disallowed by robots.txt")

    async def _poll(self, feed: Feed, summary: Round) -> None:
        state = self._state(feed)
        polls = self._metrics.feed_polls
        try:
            await self._allowed(feed.url)
            fetched = await self._get(
                feed.url, accept=FEED_ACCEPT, etag=state.etag, last_modified=state.last_modified
            )
            if fetched.status == 304:
                outcome, new = "not_modified", 0
            else:
                title, entries = await self._entries(feed, fetched)
                state.etag, state.last_modified = fetched.etag, fetched.last_modified
                new = await self._new_items(feed, title, entries, summary)
                outcome = "new" if new else "unchanged"
        except FetchError as exc:
            log.warning("feed %s failed: %s", feed.url, exc)
            state.schedule.failed(time.monotonic(), exc.retry_after)
            summary.polled["failed"] += 1
            polls.labels(feed=feed.url, outcome="failed").inc()
            return
        state.schedule.polled(time.monotonic(), new)
        summary.polled[outcome] += 1
        polls.labels(feed=feed.url, outcome=outcome).inc()
        self._metrics.feed_last_success.labels(feed=feed.url).set(time.time())
        self._metrics.feed_interval.labels(feed=feed.url).set(state.schedule.interval)
        if new:
            self._metrics.feed_last_new_item.labels(feed=feed.url).set(time.time())

    async def _entries(self, feed: Feed, fetched: Fetched) -> tuple[str | None, list[Entry]]:
        """The feed's title and entries; a sitemap index's sitemaps are read in its place."""
        try:
            parsed = parse_feed(fetched.body, fetched.content_type, fetched.url)
        except MalformedFeed as exc:
            host = host_of(feed.url)
            self._metrics.feed_fetch_errors.labels(host=host, reason="malformed").inc()
            raise FetchError(FetchReason.MALFORMED, f"{feed.url}: {exc}") from None
        entries = list(parsed.entries)
        for child in parsed.sitemaps[:_MAX_CHILD_SITEMAPS]:
            try:
                await self._allowed(child)
                page = await self._get(child, accept=FEED_ACCEPT)
                entries += parse_feed(page.body, page.content_type, page.url).entries
            except (FetchError, MalformedFeed) as exc:
                log.warning("sitemap %s of %s skipped: %s", child, feed.url, exc)
        return feed.title or parsed.title, entries

    async def _new_items(
        self, feed: Feed, title: str | None, entries: list[Entry], summary: Round
    ) -> int:
        """Fetch the entries never seen, produce their articles, mark them seen; the number
        of articles produced."""
        new: dict[str, Entry] = {}
        for entry in entries:
            key = canonical_url(entry.url)
            if key and key not in self._seen.urls and key not in self._claimed:
                new.setdefault(key, entry)
        self._claimed |= set(new)
        try:
            source = title or host_of(feed.url)
            outcomes = await asyncio.gather(
                *(self._page(feed, key, entry, source) for key, entry in new.items())
            )
            await self._publish(feed, outcomes)
        finally:
            self._claimed -= set(new)
        produced = [o for o in outcomes if o.item is not None]
        summary.produced += len(produced)
        summary.refused.update(o.refused.value for o in outcomes if o.refused is not None)
        self._metrics.feed_items.labels(feed=feed.url).inc(len(produced))
        return len(produced)

    async def _page(self, feed: Feed, key: str, entry: Entry, source: str) -> _Outcome:
        try:
            await self._allowed(entry.url)
            fetched = await self._get(entry.url, accept=HTML_ACCEPT, html_only=True)
            html = decode(fetched.body)
        except FetchError as exc:
            log.info("article %s of %s: %s", entry.url, feed.url, exc)
            return _Outcome(key, refused=None if exc.reason in TRANSIENT else exc.reason)
        except Rejected:
            reason = FetchReason.NOT_DECODABLE
            self._metrics.feed_fetch_errors.labels(host=host_of(key), reason=reason.value).inc()
            return _Outcome(key, refused=reason)
        item = FeedItem(
            url=fetched.url,
            html=html,
            title=entry.title,
            date=entry.date,
            author=entry.author,
            source=source,
            feed=feed.url,
        )
        return _Outcome(key, item=item)

    async def _publish(self, feed: Feed, outcomes: list[_Outcome]) -> None:
        """The articles first, acknowledged, then the seen marks."""
        topic = self._settings.topic_raw
        items = [(topic, o.key.encode(), encode(o.item)) for o in outcomes if o.item is not None]
        if items:
            await asyncio.to_thread(self._producer.send, items)
        now = datetime.now(UTC)
        marks = [
            (
                self._settings.topic_feeds_seen,
                o.key.encode(),
                encode(SeenUrl(feed=feed.url, outcome=o.refused or "produced", at=now)),
            )
            for o in outcomes
            if o.item is not None or o.refused is not None
        ]
        if marks:
            await asyncio.to_thread(self._producer.send, marks)
        self._seen.urls |= {o.key for o in outcomes if o.item is not None or o.refused}
