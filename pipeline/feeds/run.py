"""``mediamon feeds run``: the feed reader process. It follows the feeds topic and the
feeds-seen topic from threads (``pipeline.transport.compacted``: feeds added or removed, and
URLs other readers fetched, take effect within a second), serves its metrics, and runs poll
rounds until SIGTERM or SIGINT. Readers started side by side split the feeds between them
(``pipeline.transport.share``); ``--once`` polls every feed once, alone."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable

from pipeline.feeds.lists import FeedSet
from pipeline.feeds.reader import FeedReader, SeenUrls
from pipeline.metrics import Metrics
from pipeline.settings import Settings
from pipeline.transport.client import BrokerUnavailable, Producer
from pipeline.transport.compacted import TopicFollower
from pipeline.transport.feeds import file_feeds
from pipeline.transport.share import GroupShare
from pipeline.transport.side import start_side_process

log = logging.getLogger(__name__)


def _wait_ready(followers: list[TopicFollower], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for follower in followers:
        if not follower.ready.wait(max(0.0, deadline - time.monotonic())):
            raise BrokerUnavailable("the feeds topics could not be read; is the broker up?")


def run_feeds(settings: Settings, echo: Callable[[str], None], once: bool = False) -> None:
    """Poll the feeds until stopped (``once``: one round, then return)."""
    metrics = start_side_process(settings, settings.feeds_metrics_port)
    feeds = FeedSet(file_feeds(settings), on_change=metrics.feeds.set)
    seen = SeenUrls()
    followers = [
        TopicFollower(settings, settings.topic_feeds, feeds.apply, "feeds"),
        TopicFollower(settings, settings.topic_feeds_seen, seen.apply, "seen URLs"),
    ]
    share = None
    if not once:
        share = GroupShare(settings, settings.topic_feeds, f"{settings.app_id}-feed-readers")
        share.start()
    for follower in followers:
        follower.start()
    producer = Producer(settings)
    try:
        _wait_ready(followers, settings.connect_timeout_s * 3)
        echo(f"feeds: {len(feeds.active)} feed(s), {len(seen.urls)} URL(s) seen before")
        owns = share.owns if share is not None else lambda url: True
        asyncio.run(_poll(settings, metrics, feeds, seen, producer, echo, owns, once))
    finally:
        for follower in followers:
            follower.stop()
        if share is not None:
            share.stop()
        producer.close()


async def _poll(
    settings: Settings,
    metrics: Metrics,
    feeds: FeedSet,
    seen: SeenUrls,
    producer: Producer,
    echo: Callable[[str], None],
    owns: Callable[[str], bool],
    once: bool,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reader = FeedReader(settings, metrics, feeds, seen, producer, owns)
    try:
        await reader.run(stop, echo, once)
    finally:
        await reader.close()
