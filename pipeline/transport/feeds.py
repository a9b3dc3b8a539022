"""Where the feed list comes from: ``MEDIAMON_FEEDS_FILE`` and the compacted feeds topic (key =
feed URL, read like the watch topic); ``mediamon feeds add`` and ``remove`` write the topic."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import orjson

from pipeline.feeds.lists import FeedSet, parse_feed_list
from pipeline.models import Feed
from pipeline.settings import Settings
from pipeline.transport.client import push
from pipeline.transport.compacted import file_items, read_whole

log = logging.getLogger(__name__)


def file_feeds(settings: Settings) -> list[Feed]:
    """The valid feeds of ``MEDIAMON_FEEDS_FILE``; every problem is logged, none is fatal."""
    return file_items(settings.feeds_file, parse_feed_list, "feeds")


def read_feeds(settings: Settings) -> FeedSet:
    """The feeds as a reader with these settings polls them: the file's and the topic's."""
    feeds = FeedSet(file_feeds(settings))
    read_whole(settings, settings.topic_feeds, feeds.apply)
    return feeds


def add_feeds(settings: Settings, feeds: Sequence[Feed]) -> None:
    """Publish ``feeds`` to the feeds topic (replacing any of the same URL)."""
    values = [orjson.dumps(feed.model_dump(mode="json", exclude_defaults=True)) for feed in feeds]
    push(settings, values, settings.topic_feeds, keys=[feed.url.encode() for feed in feeds])


def remove_feeds(settings: Settings, urls: Sequence[str]) -> None:
    """Publish a tombstone for each of ``urls`` to the feeds topic."""
    push(settings, [None] * len(urls), settings.topic_feeds, keys=[u.encode() for u in urls])
