"""What every input format yields: the pieces of an article, and small value cleaners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.stages.normalise.identity import canonical_url


@dataclass(frozen=True, slots=True)
class Parts:
    """The pieces of an article as one input format yields them."""

    body: str
    title: str | None = None
    url: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    language: str | None = None
    site_name: str | None = None
    site_domain: str | None = None
    external_id: str | None = None


def http_url(value: str) -> str | None:
    """``value`` stripped when it is a usable http(s) URL, else None."""
    url = value.strip()
    return url if canonical_url(url) is not None else None


def single_line(text: str) -> str | None:
    """``text`` on one line with single spaces, or None when blank."""
    return " ".join(text.split()) or None
