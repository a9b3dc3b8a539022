"""Feed lists: an OPML file (feed readers export one), or one URL a line (``#`` starts a
comment, a title may follow the URL after whitespace); and the feeds in use
(:class:`FeedSet`: ``MEDIAMON_FEEDS_FILE``'s, updated by the records of the feeds topic).
Pure: no Kafka."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lxml import etree
from pydantic import ValidationError

from pipeline.keyed import KeyedItems, describe
from pipeline.models import Feed

_XML = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)


def parse_feed_list(text: bytes, origin: str) -> tuple[list[Feed], list[str]]:
    """The feeds of an OPML file or a list of URLs, and a message for each one that is not
    valid (left out), each naming ``origin``. A URL given twice is kept once."""
    if text.lstrip()[:1] == b"<":
        try:
            root = etree.fromstring(text, parser=_XML)
        except etree.XMLSyntaxError as exc:
            return [], [f"{origin}: not OPML: {exc}"]
        items = [
            {"url": node.get("xmlUrl"), "title": node.get("title") or node.get("text") or ""}
            for node in root.iter("outline")
            if node.get("xmlUrl")
        ]
    else:
        items = []
        for line in text.decode("utf-8", "replace").splitlines():
            words = line.split("#", 1)[0].split(None, 1)
            if words:
                items.append({"url": words[0], "title": words[1].strip() if len(words) > 1 else ""})
    feeds: dict[str, Feed] = {}
    errors = []
    for number, item in enumerate(items, 1):
        try:
            feed = Feed.model_validate(item)
        except ValidationError as exc:
            errors.append(f"{origin}: feed {number} ({item['url']}): {describe(exc)}")
            continue
        feeds.setdefault(feed.url, feed)
    return list(feeds.values()), errors


class FeedSet(KeyedItems[Feed]):
    """The feeds a reader polls: those of the feeds file, and those of the feeds topic (key:
    the feed's URL), which replace a file feed of the same URL."""

    def __init__(
        self,
        file_feeds: Iterable[Feed] = (),
        on_change: Callable[[int], None] = lambda count: None,
    ) -> None:
        super().__init__(Feed, lambda feed: feed.url, "feed", "url", file_feeds, on_change)
