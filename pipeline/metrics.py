"""Prometheus metrics of the worker (prometheus-client): articles in and out, dead letters by
reason, duplicates by kind, per-stage and batch timings; and of the feed reader (polls, items,
fetch errors, bytes and latency per feed and host) and of the notifier (messages by target kind
and outcome). Every labelled series is created at zero when the worker starts, so a dashboard
never shows "no data" on a healthy idle worker."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)

from pipeline import __version__
from pipeline.models import Reason
from pipeline.stages.normalise.dedup import DuplicateKind

_STAGE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_LATENCY_BUCKETS = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    6 * 3600.0,
    86400.0,
    7 * 86400.0,
)
LATENCY_SINCE = ("ingest", "publication")
FEED_POLL_OUTCOMES = ("new", "unchanged", "not_modified", "failed")
NOTIFY_KINDS = ("webhook", "email", "apprise")
NOTIFY_OUTCOMES = ("sent", "dead_lettered", "rate_limited")
SKIP_REASONS = ("tombstone",)


class Metrics:
    """The worker's metric families, registered in one registry."""

    def __init__(self, registry: CollectorRegistry | None = None, *, model: str = "") -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.consumed = Counter(
            "mediamon_messages_consumed",
            "Raw messages read, by input topic.",
            ["topic"],
            registry=r,
        )
        self.published = Counter(
            "mediamon_events_published",
            "Events the broker acknowledged, by output topic.",
            ["topic"],
            registry=r,
        )
        self.deadlettered = Counter(
            "mediamon_deadletters", "Messages dead-lettered, by reason.", ["reason"], registry=r
        )
        self.skipped = Counter(
            "mediamon_messages_skipped",
            "Ingest messages deliberately given no output, by reason (tombstone: a null value).",
            ["reason"],
            registry=r,
        )
        self.duplicates = Counter(
            "mediamon_duplicates", "Duplicate articles detected, by kind.", ["kind"], registry=r
        )
        self.stance_articles = Counter(
            "mediamon_stance_articles",
            "Articles scored by the stance stage, by classifier and by whether the worker was"
            " behind (the backlog model's batches).",
            ["model", "behind"],
            registry=r,
        )
        self.stage_seconds = Histogram(
            "mediamon_stage_seconds",
            "Time a stage spent on one batch.",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.batch_seconds = Histogram(
            "mediamon_batch_seconds",
            "Time from taking a batch to the broker acknowledging all its outputs.",
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "mediamon_batch_size",
            "Messages per processed batch.",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.latency = Histogram(
            "mediamon_end_to_end_latency_seconds",
            "From the article's ingest (or publication) time to the broker acknowledging its"
            " enriched event.",
            ["since"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "mediamon_consumer_lag",
            "Messages in the partition not yet processed and committed by this worker.",
            ["topic", "partition"],
            registry=r,
        )
        self.trend_articles = Counter(
            "mediamon_trend_articles",
            "Enriched-topic records read for trends, by outcome (counted or why not).",
            ["outcome"],
            registry=r,
        )
        self.trend_late = Counter(
            "mediamon_trend_late",
            "Term counts ignored because their window was no longer kept.",
            ["kind"],
            registry=r,
        )
        self.trend_terms = Gauge(
            "mediamon_trend_terms",
            "Terms this worker counts with a non-zero count in the current window.",
            ["kind"],
            registry=r,
        )
        self.trend_top_articles = Gauge(
            "mediamon_trend_top_articles",
            "Count in the current window of this worker's top terms (rank 1 = most articles);"
            " an empty rank has no id and label.",
            ["kind", "rank", "id", "label"],
            registry=r,
        )
        self.trend_top_burst = Gauge(
            "mediamon_trend_top_burst",
            "Burst score in the current window of this worker's top terms by count.",
            ["kind", "rank", "id", "label"],
            registry=r,
        )
        self.table_entries = Gauge(
            "mediamon_table_entries", "Entries in a worker state table.", ["table"], registry=r
        )
        self.alerts = Counter(
            "mediamon_alerts", "Alerts of the watch rules the broker acknowledged.", registry=r
        )
        self.watch_rules = Gauge(
            "mediamon_watch_rules", "Watch rules the worker applies.", registry=r
        )
        self.feeds = Gauge("mediamon_feeds", "Feeds the feed reader polls.", registry=r)
        self.feed_polls = Counter(
            "mediamon_feed_polls",
            "Polls of a feed by `mediamon feeds run`, by outcome: new (new items found),"
            " unchanged (none new), not_modified (a 304), failed.",
            ["feed", "outcome"],
            registry=r,
        )
        self.feed_items = Counter(
            "mediamon_feed_items",
            "Articles of a feed fetched and acknowledged on the ingest topic.",
            ["feed"],
            registry=r,
        )
        self.feed_fetch_errors = Counter(
            "mediamon_feed_fetch_errors",
            "Feed and page fetches that gave nothing to use, by host and reason (robots and"
            " not_html: refused by robots.txt, not an HTML page; the others: failures).",
            ["host", "reason"],
            registry=r,
        )
        self.feed_bytes = Counter(
            "mediamon_feed_bytes",
            "Bytes the feed reader downloaded (as sent, compressed), by host.",
            ["host"],
            registry=r,
        )
        self.feed_fetch_seconds = Histogram(
            "mediamon_feed_fetch_seconds",
            "Time of one feed or page fetch that got an answer, by host.",
            ["host"],
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.feed_last_success = Gauge(
            "mediamon_feed_last_success_timestamp_seconds",
            "When a poll of the feed last succeeded (Unix time).",
            ["feed"],
            registry=r,
        )
        self.feed_last_new_item = Gauge(
            "mediamon_feed_last_new_item_timestamp_seconds",
            "When a poll of the feed last found a new item (Unix time); the time the reader"
            " started polling it until then.",
            ["feed"],
            registry=r,
        )
        self.feed_interval = Gauge(
            "mediamon_feed_poll_interval_seconds",
            "The feed's current poll interval, adapted to how often it publishes.",
            ["feed"],
            registry=r,
        )
        self.notifications = Counter(
            "mediamon_notifications",
            "Messages of `mediamon notify run` per target, by target kind (webhook, email,"
            " apprise) and outcome: sent, dead_lettered (refused or failing after every"
            " attempt), rate_limited (over the rule's notify_max_per_hour).",
            ["kind", "outcome"],
            registry=r,
        )
        self.notify_failed_attempts = Counter(
            "mediamon_notify_failed_attempts",
            "Delivery attempts that failed (each retry counts), by target kind.",
            ["kind"],
            registry=r,
        )
        self.notify_held = Gauge(
            "mediamon_notify_held",
            "Alerts waiting for their rule's digest.",
            registry=r,
        )
        self.build = Info("mediamon_build", "Pipeline and model versions.", registry=r)
        self.build.info({"version": __version__, "model": model})
        for reason in Reason:
            self.deadlettered.labels(reason=reason.value)
        for skip in SKIP_REASONS:
            self.skipped.labels(reason=skip)
        for kind in DuplicateKind:
            self.duplicates.labels(kind=kind.value)
        for since in LATENCY_SINCE:
            self.latency.labels(since=since)
        for target_kind in NOTIFY_KINDS:
            self.notify_failed_attempts.labels(kind=target_kind)
            for outcome in NOTIFY_OUTCOMES:
                self.notifications.labels(kind=target_kind, outcome=outcome)

    def init_topics(self, inputs: list[str], outputs: list[str]) -> None:
        """Create the per-topic series at zero."""
        for topic in inputs:
            self.consumed.labels(topic=topic)
        for topic in outputs:
            self.published.labels(topic=topic)

    def init_feed(self, feed: str, now: float) -> None:
        """Create a feed's series: its polls at zero, its last new item at ``now``."""
        for outcome in FEED_POLL_OUTCOMES:
            self.feed_polls.labels(feed=feed, outcome=outcome)
        self.feed_items.labels(feed=feed)
        self.feed_last_new_item.labels(feed=feed).set(now)

    def init_stages(self, names: list[str]) -> None:
        """Create the per-stage series at zero (the enricher names its stages)."""
        for name in names:
            self.stage_seconds.labels(stage=name)

    def count_stance(self, model: str, behind: bool, articles: int) -> None:
        """Count ``articles`` scored by the stance classifier ``model`` (a stance stage
        observer); ``articles`` 0 creates the series at zero."""
        self.stance_articles.labels(model=model, behind=str(behind).lower()).inc(articles)

    def observe_stage(self, stage: str, seconds: float) -> None:
        """Record one stage's time for one batch (an ``Enricher`` observer)."""
        self.stage_seconds.labels(stage=stage).observe(seconds)

    def serve(self, port: int, addr: str = "0.0.0.0") -> None:
        """Serve ``/metrics`` on ``port`` from a background thread."""
        start_http_server(port, addr=addr, registry=self.registry)
