"""Normalise stage: one raw ingest message (JSON, HTML, plain text or Markdown) becomes an Article.

Rules, in order:

1. Bytes. Larger than ``max_bytes``: TOO_LARGE. Blank: EMPTY. A known binary signature (gzip,
   zip, PDF, PNG, ...), a NUL byte or more than 5 % control characters: BINARY. Decoded as
   UTF-8 (a BOM is dropped); failing that, markup may name its charset in ``<meta charset>`` or
   an XML declaration; otherwise NOT_DECODABLE. Nothing is ever decoded by guesswork.
2. Format, sniffed from the content (``record.origin``, a file name, only settles ties):
   ``{``/``[`` is JSON, a leading HTML tag is HTML, the rest is plain text or Markdown.
3. JSON must be one object (arrays and scalars: INVALID_JSON; unparsable: INVALID_JSON). Keys
   are matched case-, ``_``, ``-`` and ``:``-insensitively (``published_at`` = ``publishedAt``)
   and single wrappers such as ``{"article": {...}}`` or ``{"data": {...}}`` are unwrapped
   (a wrapper holding a list, as in NewsAPI responses, is INVALID_JSON). The body is the first
   non-blank of ``body``/``text``/``content``/``articleBody``/..., else the text extracted from
   ``html``, else ``description``/``summary``; none: NO_TEXT. The first non-blank value of the
   title, url and body aliases (and of ``html``/``description`` when they are needed) must be
   a string, otherwise INVALID_FIELD: nothing is coerced into these. The looser fields are read
   when their type makes sense and ignored otherwise: dates (ISO 8601, RFC 822, epoch seconds
   or milliseconds as number or digit string, 'October 15, 2015'), authors (a string split on
   'By', 'and', ',', ';', '&', or a list of strings or of objects with ``name``), source (a
   name, a domain or URL, or an object with ``name``/``domain``/``url``), language, id (a
   string or an integer). A URL that is not usable http(s) is dropped, not rejected.
   A JSON body is kept whole: only its newlines are normalised to ``\\n`` and its ends
   stripped, so character offsets into it stay valid; runs of spaces are NOT collapsed. A
   body that is itself HTML markup (it starts with a tag) is treated like ``html``.
4. HTML goes through trafilatura (no network, no file access, comments off): main text,
   title, authors, date, canonical URL, site name; ``<html lang>`` gives the language. The
   date's day is the one a complete date in the URL names (``/2020/03/15/``,
   ``/2020/mar/15/``; the record's URL, else the canonical one), else htmldate's original
   date; its time of day comes from htmldate or from the first machine-readable publication
   time (``article:published_time``, ``datePublished``, ...) that falls on that day in UTC,
   else it is midnight UTC. Such a publication time is taken alone only when there is no day.
5. Plain text and Markdown: a header of title (``# heading``, ``Title:`` or a short first line
   without a final period), byline, date and ``Key: value`` lines is lifted out of the body;
   a short unpunctuated line between such a header and the first paragraph is taken for a
   photo caption and dropped; Markdown links keep their text, images and emphasis marks go.
6. Text the stage produces itself (from HTML and text inputs) has control characters removed
   and single spaces; paragraphs are separated by exactly one blank line (each block that
   trafilatura extracts is a paragraph; text keeps its line breaks inside a paragraph).
   "Read more:"-style promotion lines are dropped wherever they are, and so is a trailer of
   contact addresses, copyright notices and bare URLs ("Original url: <...>" in the trailer
   becomes the URL). From HTML, a first line repeating the title is dropped too.
7. Dates become timezone-aware UTC (naive times are taken as UTC); an unparsable date is just
   left out, and so is a modification or update time (``dateModified``, ``Updated:``), never
   taken for the publication time. A JSON record's own date field beats the date of its
   ``html``, which gives it only a time of day when the field has none and both fall on the
   same day. A missing title is derived from the body's first sentence; the body is untouched.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Literal

from pipeline.models import Article, RawRecord, Reason, Rejected, Source
from pipeline.stages.normalise.decoding import decode, reject_binary
from pipeline.stages.normalise.header import from_text
from pipeline.stages.normalise.html import from_html, looks_like_html
from pipeline.stages.normalise.identity import registered_domain
from pipeline.stages.normalise.json_fields import from_json
from pipeline.stages.normalise.parts import Parts

# ---------------------------------------------------------------------------------------------
# Format sniffing

_Format = Literal["json", "html", "text"]
_MARKDOWN_LINK_START_RE = re.compile(r"!?\[[^\]\n]*\]\(")


def _sniff(text: str, origin: str | None) -> _Format:
    head = text.lstrip()
    suffix = PurePosixPath(origin).suffix.lower() if origin else ""
    if head.startswith("{") or (head.startswith("[") and not _MARKDOWN_LINK_START_RE.match(head)):
        return "json"
    if looks_like_html(head):
        return "html"
    if suffix == ".json":
        return "json"
    if suffix in (".html", ".htm", ".xhtml") and head.startswith("<"):
        return "html"
    return "text"


_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s")
_DERIVED_TITLE_CHARS = 120


def _derive_title(body: str) -> str:
    """The first sentence of the body, cut at a word boundary when long."""
    first = " ".join(_SENTENCE_END_RE.split(body.strip().split("\n", 1)[0], maxsplit=1)[0].split())
    if len(first) <= _DERIVED_TITLE_CHARS:
        return first
    return first[:_DERIVED_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:-") + "…"


def _article(parts: Parts) -> Article:
    if not any(char.isalnum() for char in parts.body):
        raise Rejected(Reason.NO_TEXT, "no text: the body has no letters or digits")
    domain = parts.site_domain or (registered_domain(parts.url) if parts.url else None)
    return Article(
        url=parts.url,
        source=Source(domain=domain, name=parts.site_name),
        title=parts.title or _derive_title(parts.body),
        authors=list(parts.authors),
        published_at=parts.published_at,
        language=parts.language,
        body=parts.body,
        external_id=parts.external_id,
    )


# ---------------------------------------------------------------------------------------------


def normalise(record: RawRecord, *, max_bytes: int) -> Article:
    """Turn one raw ingest message into an Article, or raise Rejected(reason, message).

    See the module docstring for the formats understood and the rules applied.
    """
    data = record.value
    if len(data) > max_bytes:
        raise Rejected(Reason.TOO_LARGE, f"message is {len(data)} bytes, limit is {max_bytes}")
    if not data.strip():
        raise Rejected(Reason.EMPTY, "message is empty")
    reject_binary(data)
    text = decode(data)
    if not text.strip():
        raise Rejected(Reason.EMPTY, "message is empty")
    kind = _sniff(text, record.origin)
    if kind == "json":
        parts = from_json(text)
    elif kind == "html":
        parts = from_html(text)
    else:
        parts = from_text(text)
    return _article(parts)
