"""Dates: parsing them as written (ISO 8601, RFC 822, epoch, prose); the publication date."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone

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


def parse_date_text(text: str) -> datetime | None:
    """A date written as text (ISO 8601 or as people write them), in UTC; None if not a date."""
    stripped = text.strip()
    try:
        return _utc(datetime.fromisoformat(stripped))
    except ValueError:
        return _parse_written_date(stripped)


def parse_date(value: object) -> datetime | None:
    """A JSON date: a number or digit string is epoch seconds or milliseconds, text is parsed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value)
    if isinstance(value, str):
        stripped = value.strip()
        if _EPOCH_RE.fullmatch(stripped):
            return _from_epoch(float(stripped))
        return parse_date_text(stripped)
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


def _meta_time_re(names: str, json_key: str) -> re.Pattern[str]:
    """The times in ``<meta>`` tags named by ``names`` and in JSON(-LD) ``json_key`` fields."""
    return re.compile(
        r"""<meta\s[^<>]*?(?:property|name|itemprop|http-equiv)\s*=\s*["']?"""
        rf"""(?:{names})["']?\s[^<>]*?content\s*=\s*["']([^"'<>]+)"""
        rf'''|"{json_key}"\s*:\s*"([^"]+)"''',
        re.I,
    )


# Machine-readable publication times, which give a day its time of day.
HTML_PUBLISHED_RE = _meta_time_re(
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


def _times(pattern: re.Pattern[str], html: str) -> list[datetime]:
    """The times that ``pattern`` finds in ``html`` (UTC), in document order."""
    found = (parse_date_text(match.group(1) or match.group(2)) for match in pattern.finditer(html))
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


def html_published_at(html: str, found: str | None, url: str | None) -> datetime | None:
    """The publication time of a page at ``url`` from htmldate's original-date result ``found``.

    The day is the one a complete date in the URL names (htmldate's first source, read here
    because trafilatura may give htmldate another URL), else htmldate's day, the publisher's;
    a result that is one of the page's modification times and none of its publication times
    is dropped. The time of day is htmldate's own, else that of the first machine-readable
    publication time on that day (UTC), else midnight UTC. With no day, the first
    publication time.
    """
    published = _times(HTML_PUBLISHED_RE, html)
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


def record_date(given: datetime | None, found: datetime | None) -> datetime | None:
    """The record's own date field beats the date found in its content; that one only gives
    the field its time of day, when the field has none and both fall on the same day."""
    if given is None or _has_time_of_day(given):
        return given or found
    return _on_day(given.date(), (found,))
