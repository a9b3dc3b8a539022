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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import PurePosixPath
from typing import Literal

import orjson
import trafilatura

from pipeline.models import Article, RawRecord, Reason, Rejected, Source
from pipeline.stages.normalise.identity import canonical_url, registered_domain
from pipeline.stages.normalise.language import language_code

# ---------------------------------------------------------------------------------------------
# Bytes: size, binary content, decoding

_BINARY_SIGNATURES: dict[bytes, str] = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"%PDF-": "PDF",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"7z\xbc\xaf\x27\x1c": "7-Zip",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\x7fELF": "ELF",
}
_CONTROL_BYTES = frozenset(range(32)) - frozenset(b"\t\n\v\f\r\x1b") | {0x7F}
_BINARY_SAMPLE_BYTES = 8192
_MAX_CONTROL_SHARE = 0.05
_CHARSET_RE = re.compile(
    rb"""<(?:meta[^>]*?charset|\?xml[^>]*?encoding)\s*=\s*["']?\s*([\w.:-]+)""", re.I
)
_CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _reject_binary(data: bytes) -> None:
    for signature, kind in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise Rejected(Reason.BINARY, f"binary content: {kind} data")
    if b"\x00" in data:
        raise Rejected(Reason.BINARY, "binary content: NUL bytes (text must be UTF-8)")
    sample = data[:_BINARY_SAMPLE_BYTES]
    controls = sum(byte in _CONTROL_BYTES for byte in sample)
    if controls > _MAX_CONTROL_SHARE * len(sample):
        raise Rejected(
            Reason.BINARY, f"binary content: {controls} control bytes in the first {len(sample)}"
        )


def _decode(data: bytes) -> str:
    """UTF-8 (BOM or not), else the charset that markup declares, else NOT_DECODABLE."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        utf8_error = f"not valid UTF-8 ({error.reason} at byte {error.start})"
    declared = _CHARSET_RE.search(data[:4096]) if data.lstrip().startswith(b"<") else None
    if declared is None:
        raise Rejected(Reason.NOT_DECODABLE, f"{utf8_error} and no charset declared")
    charset = declared.group(1).decode("ascii")
    try:
        return data.decode(charset).lstrip("\ufeff")
    except (LookupError, UnicodeError) as error:
        raise Rejected(
            Reason.NOT_DECODABLE, f"{utf8_error}, nor in its declared charset {charset!r}"
        ) from error


# ---------------------------------------------------------------------------------------------
# Format sniffing

_Format = Literal["json", "html", "text"]

_HTML_START_RE = re.compile(
    r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|base"
    r"|link|script|style|article|main|section|header|nav|div|p|h[1-6]|span|table|ul|ol|figure"
    r"|br)\b",
    re.I | re.S,
)
_MARKDOWN_LINK_START_RE = re.compile(r"!?\[[^\]\n]*\]\(")


def _looks_like_html(text: str) -> bool:
    return _HTML_START_RE.match(text.lstrip()[:4096]) is not None


def _sniff(text: str, origin: str | None) -> _Format:
    head = text.lstrip()
    suffix = PurePosixPath(origin).suffix.lower() if origin else ""
    if head.startswith("{") or (head.startswith("[") and not _MARKDOWN_LINK_START_RE.match(head)):
        return "json"
    if _looks_like_html(head):
        return "html"
    if suffix == ".json":
        return "json"
    if suffix in (".html", ".htm", ".xhtml") and head.startswith("<"):
        return "html"
    return "text"


# ---------------------------------------------------------------------------------------------
# What every format produces


@dataclass(frozen=True, slots=True)
class _Parts:
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


_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s")
_DERIVED_TITLE_CHARS = 120


def _derive_title(body: str) -> str:
    """The first sentence of the body, cut at a word boundary when long."""
    first = " ".join(_SENTENCE_END_RE.split(body.strip().split("\n", 1)[0], maxsplit=1)[0].split())
    if len(first) <= _DERIVED_TITLE_CHARS:
        return first
    return first[:_DERIVED_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:-") + "…"


def _article(parts: _Parts) -> Article:
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


def _http_url(value: str) -> str | None:
    """``value`` stripped when it is a usable http(s) URL, else None."""
    url = value.strip()
    return url if canonical_url(url) is not None else None


def _single_line(text: str) -> str | None:
    """``text`` on one line with single spaces, or None when blank."""
    return " ".join(text.split()) or None


def _tidy_lines(text: str) -> list[str]:
    """The lines of ``text`` without control characters, with single spaces, trimmed."""
    return [" ".join(line.split()) for line in _CONTROL_CHARS_RE.sub("", text).split("\n")]


# ---------------------------------------------------------------------------------------------
# Dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0, "bst": 1, "cet": 1, "west": 1, "cest": 2,
    "eet": 2, "eest": 3, "msk": 3, "hkt": 8, "jst": 9, "kst": 9, "aest": 10, "aedt": 11,
    "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
}  # fmt: skip
_WEEKDAY_RE = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.I)
_DATE_RES = (
    re.compile(r"(?P<month>[a-z]+)\.? (?P<day>\d{1,2})(?:st|nd|rd|th)? (?P<year>\d{4})", re.I),
    re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\.? (?P<month>[a-z]+)\.? (?P<year>\d{4})", re.I),
    re.compile(r"(?P<year>\d{4})[/.](?P<month>\d{1,2})[/.](?P<day>\d{1,2})"),
    re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"),
)
_TIME_RE = re.compile(
    r"(?:(?:at|-|\|)\s+)?(?P<hour>\d{1,2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?",
    re.I,
)
_ZONE_RE = re.compile(
    r"\(?(?P<name>[a-z]{1,4})\)?|(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2})", re.I
)
_EPOCH_RE = re.compile(r"-?\d{9,13}(?:\.\d+)?")
_EPOCH_MS_THRESHOLD = 100_000_000_000
_MIN_YEAR, _MAX_YEAR = 1900, 2100


def _utc(moment: datetime) -> datetime | None:
    """``moment`` in UTC (naive taken as UTC), or None when implausible or out of range."""
    try:
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        result = aware.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return result if _MIN_YEAR <= result.year <= _MAX_YEAR else None


def _from_epoch(value: float) -> datetime | None:
    try:
        seconds = value / 1000 if abs(value) >= _EPOCH_MS_THRESHOLD else value
        return _utc(datetime.fromtimestamp(seconds, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _time_and_zone(rest: str) -> tuple[int, int, int, timezone] | None:
    """Hour, minute, second and zone from what follows a date ('' is midnight UTC)."""
    hour = minute = second = 0
    rest = rest.strip(" ,")
    time_match = _TIME_RE.match(rest)
    if time_match is not None:
        if time_match["minute"] is None and time_match["ampm"] is None:
            return None
        hour, minute = int(time_match["hour"]), int(time_match["minute"] or 0)
        second = int(time_match["second"] or 0)
        if time_match["ampm"] is not None:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if time_match["ampm"][0].lower() == "p" else 0)
        rest = rest[time_match.end() :].strip()
    if not rest:
        return hour, minute, second, UTC
    zone_match = _ZONE_RE.fullmatch(rest)
    if zone_match is None:
        return None
    if zone_match["name"] is not None:
        hours = _ZONES.get(zone_match["name"].lower())
        if hours is None:
            return None
        offset = timedelta(hours=hours)
    else:
        offset = timedelta(hours=int(zone_match["hh"]), minutes=int(zone_match["mm"]))
        offset = -offset if zone_match["sign"] == "-" else offset
    if abs(offset) >= timedelta(hours=24):
        return None
    return hour, minute, second, timezone(offset)


def _parse_written_date(text: str) -> datetime | None:
    """Dates as people write them: 'Thursday, October 15, 2015 2:03 PM EDT', '15 Oct 2015
    14:03:00 +0300' (RFC 822), '2015/10/15', '15.10.2015'; month names in English."""
    cleaned = " ".join(_WEEKDAY_RE.sub("", text.strip()).replace(",", " ").split())
    for date_re in _DATE_RES:
        match = date_re.match(cleaned)
        if match is None:
            continue
        month_text = match["month"]
        month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.lower())
        clock = _time_and_zone(cleaned[match.end() :])
        if month is None or clock is None:
            return None
        hour, minute, second, zone = clock
        try:
            moment = datetime(int(match["year"]), month, int(match["day"]), hour, minute, second)
        except ValueError:
            return None
        return _utc(moment.replace(tzinfo=zone))
    return None


def _parse_date_text(text: str) -> datetime | None:
    """A date written as text (ISO 8601 or as people write them), in UTC; None if not a date."""
    stripped = text.strip()
    try:
        return _utc(datetime.fromisoformat(stripped))
    except ValueError:
        return _parse_written_date(stripped)


def _parse_date(value: object) -> datetime | None:
    """A JSON date: a number or digit string is epoch seconds or milliseconds, text is parsed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value)
    if isinstance(value, str):
        stripped = value.strip()
        if _EPOCH_RE.fullmatch(stripped):
            return _from_epoch(float(stripped))
        return _parse_date_text(stripped)
    return None


def _has_time_of_day(moment: datetime) -> bool:
    """False for a day given without a time (midnight, as day-only dates are parsed)."""
    return moment.time() != time()


def _on_day(day: date, moments: Iterable[datetime | None]) -> datetime | None:
    """The first of ``moments`` (UTC) with a time of day that falls on ``day``, else midnight
    UTC of ``day``: a weaker source may give a day its time of day, never another day."""
    for moment in moments:
        if moment is not None and moment.date() == day and _has_time_of_day(moment):
            return moment
    return _utc(datetime(day.year, day.month, day.day))


# ---------------------------------------------------------------------------------------------
# Authors

_BY_RE = re.compile(r"^\s*(?:written\s+)?by\b[\s:]*", re.I)
_AUTHOR_SEPARATORS_RE = re.compile(r"\s*(?:[,;&|]|\band\b)\s*", re.I)
_MAX_AUTHOR_CHARS, _MAX_AUTHOR_WORDS = 60, 6


def _is_name(text: str) -> bool:
    return (
        0 < len(text) <= _MAX_AUTHOR_CHARS
        and len(text.split()) <= _MAX_AUTHOR_WORDS
        and any(char.isalpha() for char in text)
        and "@" not in text
        and "://" not in text
    )


def _author(text: str) -> str | None:
    name = " ".join(_BY_RE.sub("", text).split()).strip(" .")
    return name if _is_name(name) else None


def _split_authors(text: str) -> list[str]:
    """'By Jane Doe and John Roe' / 'Jane Doe, John Roe; Ann Poe' -> the names."""
    names = (_author(part) for part in _AUTHOR_SEPARATORS_RE.split(_BY_RE.sub("", text)))
    return [name for name in names if name]


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return tuple(seen.values())


def _json_authors(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return _unique(_split_authors(value))
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return ()
    names: list[str] = []
    for item in value:
        if isinstance(item, dict):
            item = item.get("name")
        if isinstance(item, str) and (name := _author(item)):
            names.append(name)
    return _unique(names)


# ---------------------------------------------------------------------------------------------
# Lines: Markdown inline markup, promotion lines, trailers

# Every pattern below stops at the next delimiter character (no '[' inside link text, no space
# inside a link target, no '*' inside '*emphasis*'), so hostile input cannot make it quadratic.
_LINK_TARGET = r"\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)"
_IMAGE_RE = re.compile(r"!\[[^\[\]\n]*\]" + _LINK_TARGET)
_LINK_RE = re.compile(r"\[([^\[\]\n]*)\]" + _LINK_TARGET)
_AUTOLINK_RE = re.compile(r"<(?:mailto:)?([^<>\s]+(?:://|@)[^<>\s]+)>")
_EMPHASIS_RES = tuple(
    re.compile(
        rf"(?<![\w{char}]){mark}(?=[^\s{char}])([^{char}\n]+?)(?<=[^\s{char}]){mark}(?![\w{char}])"
    )
    for mark, char in ((r"\*\*", r"\*"), ("__", "_"), (r"\*", r"\*"), ("_", "_"))
)
"""Strong, then simple emphasis, with '*' and with '_'."""
_CODE_RE = re.compile(r"`([^`\n]+)`")
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|])")
_PARKED = 0xE000
_PARKED_RE = re.compile("[\ue000-\ue07f]")
_HEADING_RE = re.compile(r"^#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_RULE_RE = re.compile(r"^\s*(?:[-*_=]\s*){3,}$")
_QUOTE_RE = re.compile(r"^\s*(?:>\s?)+")

_PROMO_RE = re.compile(
    r"^\W*(?:(?:read|see) (?:more|also)|also read|related(?: \w+)?|more on this(?: story)?"
    r"|don'?t miss|you (?:may|might) also like|explore further|recommended(?: for you)?"
    r"|advertisement|subscribe to\b.*|click here to subscribe\b.*)\W*$"
    r"|^\W*(?:(?:read|see) (?:more|also)|also read|related(?: \w+)?)\s*:",
    re.I,
)
_MAX_PROMO_CHARS = 200
_BARE_URL_RE = re.compile(r"<?(https?://\S+?)>?")
_URL_LABEL_RE = re.compile(
    r"(?:(?:original|source|article|canonical|permanent)\s+)?(?:url|link|permalink)\s*:?\s*"
    r"(?:<?(https?://\S+?)>?)?",
    re.I,
)
_TRAILER_RE = re.compile(
    r"©|\bcopyright\b|\ball rights reserved\b|^\W*(?:contact|write to|e-?mail|reach)\b.*@"
    r"|^\S+@\S+\.\w+$",
    re.I,
)
_MAX_TRAILER_CHARS = 300


def _inline(text: str) -> str:
    """``text`` with Markdown inline markup resolved to plain text; line breaks stay as they are.

    Backslash-escaped characters are parked in the Private Use Area while markup is resolved,
    so that an escaped ``\\*`` never opens emphasis.
    """
    text = _ESCAPE_RE.sub(lambda match: chr(_PARKED + ord(match.group(1))), text)
    text = _IMAGE_RE.sub("", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _AUTOLINK_RE.sub(r"\1", text)
    for emphasis_re in _EMPHASIS_RES:
        text = emphasis_re.sub(r"\1", text)
    text = _CODE_RE.sub(r"\1", text)
    return _PARKED_RE.sub(lambda match: chr(ord(match.group(0)) - _PARKED), text)


def _same_words(a: str, b: str) -> bool:
    return re.findall(r"\w+", a.casefold()) == re.findall(r"\w+", b.casefold())


def _strip_trailer(lines: list[str]) -> tuple[list[str], str | None]:
    """Drop trailing blank lines, contact and copyright lines, bare URLs and URL labels.

    Returns the remaining lines and the URL that a label such as 'Original url:' names.
    """
    end = len(lines)
    url: str | None = None
    pending: str | None = None
    while end:
        line = lines[end - 1].strip()
        bare = _BARE_URL_RE.fullmatch(line)
        label = _URL_LABEL_RE.fullmatch(line)
        if bare is not None:
            pending = bare.group(1)
        elif label is not None:
            url = url or label.group(1) or pending
        elif line and not (len(line) <= _MAX_TRAILER_CHARS and _TRAILER_RE.search(line)):
            break
        end -= 1
    return lines[:end], url


def _blocks(lines: Iterable[str]) -> Iterator[list[str]]:
    """Group lines into blocks separated by blank lines."""
    block: list[str] = []
    for line in lines:
        if line:
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def _finish(lines: list[str]) -> tuple[str, str | None]:
    """The body from cleaned lines (promotion lines and trailer gone) and a trailer URL."""
    kept = [
        line for line in lines if not (len(line) <= _MAX_PROMO_CHARS and _PROMO_RE.search(line))
    ]
    kept, url = _strip_trailer(kept)
    return "\n\n".join("\n".join(block) for block in _blocks(kept)), url


# ---------------------------------------------------------------------------------------------
# HTML

_DATE_PARAMS = {
    "original_date": True,
    "extensive_search": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


def _meta_time_re(names: str, json_key: str) -> re.Pattern[str]:
    """The times in ``<meta>`` tags named by ``names`` and in JSON(-LD) ``json_key`` fields."""
    return re.compile(
        r"""<meta\s[^<>]*?(?:property|name|itemprop|http-equiv)\s*=\s*["']?"""
        rf"""(?:{names})["']?\s[^<>]*?content\s*=\s*["']([^"'<>]+)"""
        rf'''|"{json_key}"\s*:\s*"([^"]+)"''',
        re.I,
    )


# Machine-readable publication times, which give a day its time of day.
_HTML_PUBLISHED_RE = _meta_time_re(
    r"article:published_time|article:published|og:published_time|datePublished|pubdate"
    r"|publishdate|publish[-_]date|parsely-pub-date|sailthru\.date|dc\.date\.issued"
    r"|dcterms\.issued|dc\.date|date",
    "datePublished",
)
# Modification times, never taken for the publication time.
_HTML_MODIFIED_RE = _meta_time_re(
    "article:modified_time|og:updated_time|dateModified|article:modified|lastmod|last-modified",
    "dateModified",
)
# A complete date in a URL, as htmldate reads it (/2020/03/15/, -2020-03-15-), or with the
# month's name (/2020/mar/15/).
_URL_DATE_RE = re.compile(
    r"\D(?P<year>(?:19|20)\d{2})(?:[/_-](?P<month>\d{1,2})[/_-]|/(?P<name>[a-z]{3,9})/)"
    r"(?P<day>\d{1,2})(?:\D|$)",
    re.I,
)
_HTML_LANG_RE = re.compile(
    r"""<html\b[^>]*?\s(?:xml:)?lang\s*=\s*["']?([\w-]+)"""
    r"""|<meta\s[^>]*?http-equiv\s*=\s*["']?content-language["']?\s[^>]*?content\s*=\s*["']?([\w-]+)""",
    re.I,
)


def _str_attr(document: object, name: str) -> str | None:
    value = getattr(document, name, None)
    return _single_line(value) if isinstance(value, str) else None


def _times(pattern: re.Pattern[str], html: str) -> list[datetime]:
    """The times that ``pattern`` finds in ``html`` (UTC), in document order."""
    found = (_parse_date_text(match.group(1) or match.group(2)) for match in pattern.finditer(html))
    return [moment for moment in found if moment is not None]


def _url_day(url: str | None) -> date | None:
    """The day that a complete date in ``url`` names, if any."""
    match = _URL_DATE_RE.search(url) if url else None
    if match is None:
        return None
    month = int(match["month"]) if match["month"] else _MONTHS.get(match["name"].lower())
    try:
        return date(int(match["year"]), month, int(match["day"])) if month else None
    except ValueError:
        return None


def _html_published_at(html: str, found: str | None, url: str | None) -> datetime | None:
    """The publication time of a page at ``url`` from htmldate's original-date result ``found``.

    The day is the one a complete date in the URL names (htmldate's first source, read here
    because trafilatura may give htmldate another URL), else htmldate's day, the publisher's;
    a result that is one of the page's modification times and none of its publication times
    is dropped. The time of day is htmldate's own, else that of the first machine-readable
    publication time on that day (UTC), else midnight UTC. With no day, the first
    publication time.
    """
    published = _times(_HTML_PUBLISHED_RE, html)
    try:
        written = datetime.fromisoformat(found) if found else None
    except ValueError:
        written = None
    moment = _utc(written) if written is not None else None
    if moment is not None and moment not in published and moment in _times(_HTML_MODIFIED_RE, html):
        moment = None
    day = _url_day(url) or (written.date() if written is not None and moment is not None else None)
    if day is None:
        return published[0] if published else None
    return _on_day(day, (moment, *published))


def _from_html(html: str, url: str | None = None) -> _Parts:
    """Main text and metadata of an HTML page found at ``url`` (trafilatura; fully offline)."""
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            fast=True,
            include_comments=False,
            with_metadata=True,
            date_extraction_params=_DATE_PARAMS,
        )
    except Exception as error:  # a third-party parser on arbitrary input: report, don't crash
        raise Rejected(
            Reason.INTERNAL_ERROR, f"HTML extraction failed: {type(error).__name__}: {error}"
        ) from error
    text = getattr(document, "text", None)
    if not isinstance(text, str) or not text.strip():
        raise Rejected(Reason.NO_TEXT, "no article text found in the HTML")
    title = _str_attr(document, "title")
    lines = [line for line in _tidy_lines(text) if line]
    if title and lines and _same_words(lines[0], title):
        lines = lines[1:]
    body, _ = _finish([part for line in lines for part in (line, "")])
    lang = _HTML_LANG_RE.search(html[:8192])
    author = _str_attr(document, "author")
    page_url = _str_attr(document, "url")
    return _Parts(
        body=body,
        title=title,
        url=_http_url(page_url) if page_url else None,
        authors=_unique(_split_authors(author)) if author else (),
        published_at=_html_published_at(html, _str_attr(document, "date"), url or page_url),
        language=language_code(lang.group(1) or lang.group(2)) if lang else None,
        site_name=_str_attr(document, "sitename"),
    )


# ---------------------------------------------------------------------------------------------
# Plain text and Markdown

_LABEL_RE = re.compile(
    r"(?P<label>title|headline|by|byline|authors?|written by|date|dated|published(?: on)?"
    r"|posted(?: on)?|(?:last )?updated(?: on)?|source|publisher|url|link|language|lang)"
    r"\s*:\s*(?P<value>.+)",
    re.I,
)
_DATE_PREFIX_RE = re.compile(r"^(?:published|posted|updated|last updated)(?: on)?\s+", re.I)
_MAX_TITLE_CHARS = 200
_MAX_DATE_LINE_CHARS = 80
_MAX_CAPTION_CHARS = 120
_MAX_CAPTIONS = 2
_CLOSERS = "\"'\u201d\u2019\u00bb)]"
_SENTENCE_FINAL = tuple(".!?:;\u2026" + _CLOSERS)
_CLAUSE_END_RE = re.compile(f"[.,;:\u2026][{re.escape(_CLOSERS)}]*$")


def _looks_like_title(line: str) -> bool:
    return (
        len(line) <= _MAX_TITLE_CHARS
        and _CLAUSE_END_RE.search(line) is None
        and any(char.isalpha() for char in line)
    )


def _byline(line: str) -> tuple[str, ...]:
    """The authors when ``line`` is a byline such as 'By Jane Doe and John Roe', else ()."""
    if not _BY_RE.match(line) or line.endswith(".") or len(line) > _MAX_TITLE_CHARS:
        return ()
    names = _split_authors(line)
    return _unique(names) if names and all(name[0].isupper() for name in names) else ()


@dataclass(slots=True)
class _Header:
    """What the header block of a text article says about it."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    url: str | None = None
    site_name: str | None = None
    language: str | None = None

    def take_label(self, label: str, value: str) -> None:
        label = label.lower()
        if label in ("title", "headline"):
            self.title = self.title or value
        elif label in ("by", "byline", "author", "authors", "written by"):
            self.authors = self.authors or _unique(_split_authors(value))
        elif label in ("source", "publisher", "url", "link"):
            url = _http_url(_BARE_URL_RE.sub(r"\1", value))
            if url is not None:
                self.url = self.url or url
            elif label in ("source", "publisher"):
                self.site_name = self.site_name or value
        elif label in ("language", "lang"):
            self.language = self.language or language_code(value)
        elif "updated" not in label:  # an update time is never the publication time
            self.published_at = self.published_at or _parse_date_text(value)

    def take(self, line: str, *, heading: bool, more: bool) -> bool:
        """Take ``line`` into the header if it belongs there; False at the first body line.

        ``heading``: the line was a Markdown heading; ``more``: other text follows it.
        """
        label = _LABEL_RE.fullmatch(line)
        if label is not None:
            self.take_label(label["label"], label["value"])
            return True
        authors = _byline(line)
        if authors:
            self.authors = self.authors or authors
            return True
        if not heading and self.published_at is None and len(line) <= _MAX_DATE_LINE_CHARS:
            prefix = _DATE_PREFIX_RE.match(line)
            moment = _parse_date_text(line[prefix.end() :] if prefix else line)
            if moment is not None:
                if prefix is None or "updated" not in prefix.group(0).lower():
                    self.published_at = moment
                return True
        if self.title is None and (heading or (more and _looks_like_title(line))):
            self.title = line
            return True
        return False


def _markdown_lines(text: str) -> list[tuple[str, bool]]:
    """Lines of ``text`` as plain text, each with whether it was a Markdown heading."""
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    headings = [_HEADING_RE.match(raw) for raw in raw_lines]
    blocks = [
        "" if _RULE_RE.match(raw) else _QUOTE_RE.sub("", heading.group(1) if heading else raw)
        for raw, heading in zip(raw_lines, headings, strict=True)
    ]
    lines = _tidy_lines(_inline("\n".join(blocks)))
    return [(line, heading is not None) for line, heading in zip(lines, headings, strict=True)]


def _is_caption(block: list[str]) -> bool:
    return (
        len(block) == 1
        and len(block[0]) <= _MAX_CAPTION_CHARS
        and not block[0].endswith(_SENTENCE_FINAL)
    )


def _from_text(text: str) -> _Parts:
    """A plain-text or Markdown article: header lifted out, captions and trailer dropped."""
    lines = _markdown_lines(text)
    last = max((index for index, (line, _) in enumerate(lines) if line), default=-1)
    header = _Header()
    start = 0
    while start < len(lines):
        line, heading = lines[start]
        if line and not header.take(line, heading=heading, more=start < last):
            break
        start += 1
    blocks = list(_blocks(line for line, _ in lines[start:]))
    if header.published_at is not None or header.authors:
        captions = 0
        while captions < _MAX_CAPTIONS and len(blocks) > 1 and _is_caption(blocks[0]):
            blocks.pop(0)
            captions += 1
    body_lines = [line for block in blocks for line in [*block, ""]]
    body, trailer_url = _finish(body_lines)
    return _Parts(
        body=body,
        title=header.title,
        url=header.url or (_http_url(trailer_url) if trailer_url else None),
        authors=header.authors,
        published_at=header.published_at,
        language=header.language,
        site_name=header.site_name,
    )


# ---------------------------------------------------------------------------------------------
# JSON

_URL_KEYS = ("url", "link", "canonicalurl", "canonical", "permalink", "weburl", "articleurl")
_TITLE_KEYS = ("title", "headline", "webtitle")
_BODY_KEYS = ("body", "text", "content", "articlebody", "maintext", "fulltext", "bodytext")
_HTML_KEYS = ("html", "rawhtml")
_SUMMARY_KEYS = ("description", "summary", "abstract", "excerpt")
_DATE_KEYS = (
    "publishedat", "published", "pubdate", "datepublished", "publicationdate", "publishdate",
    "date", "dcdate", "created", "createdat",
)  # fmt: skip
_AUTHOR_KEYS = ("authors", "author", "byline", "creator", "dccreator", "creators")
_SOURCE_KEYS = ("source", "publisher", "sitename", "site", "outlet")
_LANGUAGE_KEYS = ("language", "lang", "inlanguage", "dclanguage")
_ID_KEYS = ("id", "guid", "articleid", "uuid")
_WRAPPER_KEYS = (
    "article", "data", "item", "document", "doc", "record", "payload", "result", "story", "post",
    "entry", "news", "articles", "items", "results", "entries", "stories", "posts", "documents",
)  # fmt: skip
_CONTENT_KEYS = (*_BODY_KEYS, *_HTML_KEYS, *_SUMMARY_KEYS)
_MAX_WRAPPER_DEPTH = 4


def _key(name: str) -> str:
    return re.sub(r"[\W_]", "", name).lower()


def _json_type(value: object) -> str:
    """The JSON name of the type of a parsed value: 'object', 'list', 'string', 'number', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "list" if isinstance(value, list) else "string"


def _json_id(value: object) -> str | None:
    """The producer's id when it is a string or an integer."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value).strip() or None
    return None


class _Fields:
    """A JSON object read through key aliases."""

    def __init__(self, obj: dict[str, object]) -> None:
        self.obj = obj
        self._by_key: dict[str, tuple[str, object]] = {}
        for name, value in obj.items():
            self._by_key.setdefault(_key(name), (name, value))

    def get(self, keys: tuple[str, ...]) -> tuple[str, object] | None:
        """The first of ``keys`` holding a value: not null and not a blank string."""
        for key in keys:
            entry = self._by_key.get(key)
            if entry is not None and not (
                entry[1] is None or (isinstance(entry[1], str) and not entry[1].strip())
            ):
                return entry
        return None

    def string(self, keys: tuple[str, ...]) -> str | None:
        """The first of ``keys`` holding a value, which must be a string: else INVALID_FIELD."""
        entry = self.get(keys)
        if entry is None:
            return None
        name, value = entry
        if not isinstance(value, str):
            raise Rejected(
                Reason.INVALID_FIELD, f"field {name!r} must be a string, got {_json_type(value)}"
            )
        return value

    def value(self, keys: tuple[str, ...]) -> object:
        entry = self.get(keys)
        return None if entry is None else entry[1]


def _unwrap(obj: dict[str, object]) -> _Fields:
    """The article object, looking into wrappers such as {"article": {...}} or {"data": {...}}."""
    fields = _Fields(obj)
    for _ in range(_MAX_WRAPPER_DEPTH):
        if fields.get(_CONTENT_KEYS) is not None:
            break
        wrapper = fields.get(_WRAPPER_KEYS)
        if wrapper is None:
            break
        name, inner = wrapper
        if isinstance(inner, list):
            raise Rejected(
                Reason.INVALID_JSON,
                f"field {name!r} holds a list of {len(inner)}; send one article per message",
            )
        if not isinstance(inner, dict):
            break
        outer = {key: value for key, value in fields.obj.items() if key != name}
        fields = _Fields({**outer, **inner})
    return fields


def _json_source(value: object) -> tuple[str | None, str | None]:
    """(name, domain) from a source given as a name, a domain or URL, or an object."""
    if isinstance(value, dict):
        name, domain = (
            value.get("name") or value.get("title"),
            value.get("domain") or value.get("url"),
        )
    else:
        name, domain = value, None
    name = _single_line(name) if isinstance(name, str) else None
    domain = registered_domain(domain) if isinstance(domain, str) else None
    if domain is None and name is not None and " " not in name and "." in name:
        domain = registered_domain(name)
        name = None if domain is not None else name
    return name, domain


def _keep_offsets(text: str) -> str:
    """Newlines normalised to ``\\n`` and ends stripped; nothing else is touched."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _record_date(given: datetime | None, found: datetime | None) -> datetime | None:
    """The record's own date field beats the date found in its content; that one only gives
    the field its time of day, when the field has none and both fall on the same day."""
    if given is None or _has_time_of_day(given):
        return given or found
    return _on_day(given.date(), (found,))


def _from_json(text: str) -> _Parts:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise Rejected(Reason.INVALID_JSON, f"invalid JSON: {error}") from error
    if isinstance(value, list):
        raise Rejected(
            Reason.INVALID_JSON,
            f"a JSON array ({len(value)} items) is not an article; send one object per message",
        )
    if not isinstance(value, dict):
        raise Rejected(Reason.INVALID_JSON, f"expected a JSON object, got {_json_type(value)}")
    fields = _unwrap(value)
    url_text = fields.string(_URL_KEYS)
    url = _http_url(url_text) if url_text else None
    title = fields.string(_TITLE_KEYS)
    body = fields.string(_BODY_KEYS)
    html = fields.string(_HTML_KEYS) if body is None else None
    if body is None and html is None:
        body = fields.string(_SUMMARY_KEYS)
    if body is not None and _looks_like_html(body):
        body, html = None, body
    if html is not None:
        parts = _from_html(html, url)
    elif body is not None:
        parts = _Parts(body=_keep_offsets(body))
    else:
        keys = ", ".join(repr(key) for key in ("body", "text", "content", "html", "description"))
        raise Rejected(Reason.NO_TEXT, f"no body text: none of {keys} is a non-blank string")
    source_name, source_domain = _json_source(fields.value(_SOURCE_KEYS))
    language = fields.value(_LANGUAGE_KEYS)
    return replace(
        parts,
        title=(_single_line(title) if title else None) or parts.title,
        url=url or parts.url,
        authors=_json_authors(fields.value(_AUTHOR_KEYS)) or parts.authors,
        published_at=_record_date(_parse_date(fields.value(_DATE_KEYS)), parts.published_at),
        language=(language_code(language) if isinstance(language, str) else None) or parts.language,
        site_name=source_name or parts.site_name,
        site_domain=source_domain,
        external_id=_json_id(fields.value(_ID_KEYS)),
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
    _reject_binary(data)
    text = _decode(data)
    if not text.strip():
        raise Rejected(Reason.EMPTY, "message is empty")
    kind = _sniff(text, record.origin)
    if kind == "json":
        parts = _from_json(text)
    elif kind == "html":
        parts = _from_html(text)
    else:
        parts = _from_text(text)
    return _article(parts)
