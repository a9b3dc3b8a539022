"""The feed reader's records: a feed of the feed list, the article record it produces to the
ingest topic, and the record that marks an article URL as fetched."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from pipeline.models.base import Model

HttpUrlText = Annotated[str, Field(pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+", max_length=2048)]


class Feed(Model):
    """A feed to poll: an RSS, Atom or JSON feed, or a (news) sitemap."""

    url: HttpUrlText
    title: str = Field("", description="A name for the feed (its own title when empty).")


class FeedItem(Model):
    """One article found in a feed and fetched: what `mediamon feeds run` produces to the
    ingest topic (key: the canonical URL)."""

    url: str
    html: str
    title: str | None = None
    date: str | None = Field(None, description="The feed's publication date (ISO 8601).")
    author: str | None = None
    source: str | None = Field(None, description="The feed's title, else its site's host.")
    feed: str = Field(description="The URL of the feed the article was found in.")


class SeenUrl(Model):
    """An article URL a feed reader is done with (fetched and produced, or refused for good)."""

    feed: str
    outcome: str = Field(description="'produced' or the reason it was refused.")
    at: datetime
