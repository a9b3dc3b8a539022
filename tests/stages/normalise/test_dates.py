"""Tests of how the normalise stage dates an HTML page: which source wins, and when a weaker
source may give the day its time of day (invented pages)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipeline.models import Article, RawRecord
from pipeline.stages.normalise.article import normalise
from pipeline.stages.normalise.dates import html_published_at

MAX_BYTES = 1_048_576
BODY = (
    "<body><article><h1>Harbour reopens</h1><p>The harbour at Kilrush reopened on Friday after "
    "repairs to the sea wall, the county council said in a statement.</p><p>Fishing boats "
    "returned within hours, and the ferry to the island will resume its timetable next week, "
    "according to the operator.</p>{extra}</article></body></html>"
)


def page(head: str = "", extra: str = "") -> str:
    """An invented news page with ``head`` in its <head> and ``extra`` after its text."""
    return f"<html><head><title>Harbour reopens</title>{head}</head>{BODY.format(extra=extra)}"


def run(html: str, url: str | None = None, **fields: object) -> Article:
    """The article from a raw record holding ``html`` (and ``url`` and ``fields``, as JSON)."""
    if url is None and not fields:
        value = html.encode()
    else:
        value = json.dumps({"url": url, "html": html, **fields}).encode()
    return normalise(RawRecord(value=value), max_bytes=MAX_BYTES)


def ld(**values: str) -> str:
    return f'<script type="application/ld+json">{json.dumps(values)}</script>'


def test_json_ld_date_published_beats_date_modified() -> None:
    # The modified time comes first, on another day.
    head = ld(dateModified="2026-03-24T18:00:00Z", datePublished="2026-03-20T09:15:00Z")
    assert run(page(head)).published_at == datetime(2026, 3, 20, 9, 15, tzinfo=UTC)


def test_article_published_time_keeps_its_time_of_day_and_ignores_the_modified_time() -> None:
    head = (
        '<meta property="article:modified_time" content="2026-03-22T08:00:00+00:00">'
        '<meta property="article:published_time" content="2026-03-20T16:30:00+03:00">'
    )
    assert run(page(head)).published_at == datetime(2026, 3, 20, 13, 30, tzinfo=UTC)


def test_og_published_time() -> None:
    head = '<meta property="og:published_time" content="2026-03-20T07:05:00Z">'
    assert run(page(head)).published_at == datetime(2026, 3, 20, 7, 5, tzinfo=UTC)


def test_a_numeric_url_date() -> None:
    article = run(page(), url="https://www.example-gazette.com/2026/03/20/harbour-reopens/")
    assert article.published_at == datetime(2026, 3, 20, tzinfo=UTC)


def test_a_url_date_with_the_month_name_beats_a_date_in_the_text() -> None:
    extra = "<p>The repairs began on January 5, 2026, after the storm.</p>"
    url = "https://www.example-gazette.com/world/2026/mar/20/harbour-reopens"
    assert run(page(extra=extra), url=url).published_at == datetime(2026, 3, 20, tzinfo=UTC)


def test_a_publication_time_on_another_utc_day_gives_the_publishers_day_at_midnight() -> None:
    # 23:30 in New York on the 19th, the publisher's day in the URL, is the 20th in UTC.
    head = '<meta property="article:published_time" content="2026-03-20T03:30:00+00:00">'
    url = "https://www.example-gazette.com/2026/03/19/harbour-reopens/"
    assert run(page(head), url=url).published_at == datetime(2026, 3, 19, tzinfo=UTC)


def test_the_publication_time_on_the_day_is_taken_not_the_first_one() -> None:
    # A related story's time comes first in the page.
    head = ld(datePublished="2025-11-02T10:00:00Z") + ld(datePublished="2026-03-20T11:45:00Z")
    url = "https://www.example-gazette.com/2026/03/20/harbour-reopens/"
    assert run(page(head), url=url).published_at == datetime(2026, 3, 20, 11, 45, tzinfo=UTC)


def test_the_time_of_day_comes_from_a_time_not_from_a_bare_date() -> None:
    head = '<meta name="dc.date" content="2026-03-20">' + ld(datePublished="2026-03-20T11:45Z")
    url = "https://www.example-gazette.com/2026/03/20/harbour-reopens/"
    assert run(page(head), url=url).published_at == datetime(2026, 3, 20, 11, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    "head",
    [
        '<meta property="article:modified_time" content="2026-03-25T10:00:00Z">',
        '<meta property="og:updated_time" content="2026-03-25T10:00:00Z">',
        ld(dateModified="2026-03-25T10:00:00Z"),
    ],
)
def test_a_page_with_only_a_modified_time_has_no_publication_time(head: str) -> None:
    assert run(page(head)).published_at is None


def test_with_no_day_from_htmldate_the_first_publication_time_is_taken() -> None:
    html = page('<meta name="pubdate" content="2026-03-20T09:00:00Z">')
    assert html_published_at(html, None, None) == datetime(2026, 3, 20, 9, tzinfo=UTC)


def test_htmldates_result_that_is_the_modified_time_is_dropped() -> None:
    html = page(ld(datePublished="2026-03-20T09:00:00Z", dateModified="2026-03-25T10:00:00Z"))
    found = "2026-03-25T10:00:00+0000"
    assert html_published_at(html, found, None) == datetime(2026, 3, 20, 9, tzinfo=UTC)


HEAD = '<meta property="article:published_time" content="2026-03-20T16:30:00+03:00">'
URL = "https://www.example-gazette.com/harbour-reopens"


def test_the_records_date_field_beats_the_html() -> None:
    article = run(page(HEAD), url=URL, published_at="2026-03-19T08:00:00Z")
    assert article.published_at == datetime(2026, 3, 19, 8, tzinfo=UTC)


def test_a_records_day_takes_the_time_of_day_of_the_html_on_the_same_day() -> None:
    article = run(page(HEAD), url=URL, date="2026-03-20")
    assert article.published_at == datetime(2026, 3, 20, 13, 30, tzinfo=UTC)


def test_a_records_day_keeps_its_day_when_the_html_says_another() -> None:
    article = run(page(HEAD), url=URL, date="March 19, 2026")
    assert article.published_at == datetime(2026, 3, 19, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Updated: March 25, 2026\nPublished: March 20, 2026", datetime(2026, 3, 20, tzinfo=UTC)),
        ("Last updated March 25, 2026", None),
    ],
)
def test_a_text_articles_update_time_is_not_its_publication_time(
    header: str, expected: datetime | None
) -> None:
    text = (
        f"Harbour reopens\n{header}\n\nThe harbour at Kilrush reopened on Friday after repairs "
        "to the sea wall, the county council said in a statement."
    )
    article = normalise(RawRecord(value=text.encode()), max_bytes=MAX_BYTES)
    assert article.published_at == expected
    assert article.body.startswith("The harbour at Kilrush")
