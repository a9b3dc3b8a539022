"""Plain text and Markdown: a header of title, byline, date and labels lifted out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pipeline.stages.normalise.authors import BY_RE, split_authors, unique_names
from pipeline.stages.normalise.dates import parse_date_text
from pipeline.stages.normalise.language import language_code
from pipeline.stages.normalise.lines import (
    BARE_URL_RE,
    finish_body,
    inline,
    split_blocks,
    tidy_lines,
)
from pipeline.stages.normalise.parts import Parts, http_url

_HEADING_RE = re.compile(r"^#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_RULE_RE = re.compile(r"^\s*(?:[-*_=]\s*){3,}$")
_QUOTE_RE = re.compile(r"^\s*(?:>\s?)+")

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
    if not BY_RE.match(line) or line.endswith(".") or len(line) > _MAX_TITLE_CHARS:
        return ()
    names = split_authors(line)
    return unique_names(names) if names and all(name[0].isupper() for name in names) else ()


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
            self.authors = self.authors or unique_names(split_authors(value))
        elif label in ("source", "publisher", "url", "link"):
            url = http_url(BARE_URL_RE.sub(r"\1", value))
            if url is not None:
                self.url = self.url or url
            elif label in ("source", "publisher"):
                self.site_name = self.site_name or value
        elif label in ("language", "lang"):
            self.language = self.language or language_code(value)
        elif "updated" not in label:  # an update time is never the publication time
            self.published_at = self.published_at or parse_date_text(value)

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
            moment = parse_date_text(line[prefix.end() :] if prefix else line)
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
    lines = tidy_lines(inline("\n".join(blocks)))
    return [(line, heading is not None) for line, heading in zip(lines, headings, strict=True)]


def _is_caption(block: list[str]) -> bool:
    return (
        len(block) == 1
        and len(block[0]) <= _MAX_CAPTION_CHARS
        and not block[0].endswith(_SENTENCE_FINAL)
    )


def from_text(text: str) -> Parts:
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
    blocks = list(split_blocks(line for line, _ in lines[start:]))
    if header.published_at is not None or header.authors:
        captions = 0
        while captions < _MAX_CAPTIONS and len(blocks) > 1 and _is_caption(blocks[0]):
            blocks.pop(0)
            captions += 1
    body_lines = [line for block in blocks for line in [*block, ""]]
    body, trailer_url = finish_body(body_lines)
    return Parts(
        body=body,
        title=header.title,
        url=header.url or (http_url(trailer_url) if trailer_url else None),
        authors=header.authors,
        published_at=header.published_at,
        language=header.language,
        site_name=header.site_name,
    )
