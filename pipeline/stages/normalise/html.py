"""HTML pages: main text and metadata through trafilatura (offline), and telling markup apart."""

from __future__ import annotations

import re

import trafilatura

from pipeline.models import Reason, Rejected
from pipeline.stages.normalise.authors import split_authors, unique_names
from pipeline.stages.normalise.dates import html_published_at
from pipeline.stages.normalise.language import language_code
from pipeline.stages.normalise.lines import finish_body, same_words, tidy_lines
from pipeline.stages.normalise.parts import Parts, http_url, single_line

_HTML_START_RE = re.compile(
    r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|base"
    r"|link|script|style|article|main|section|header|nav|div|p|h[1-6]|span|table|ul|ol|figure"
    r"|br)\b",
    re.I | re.S,
)


def looks_like_html(text: str) -> bool:
    return _HTML_START_RE.match(text.lstrip()[:4096]) is not None


_DATE_PARAMS = {
    "original_date": True,
    "extensive_search": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


_HTML_LANG_RE = re.compile(
    r"""<html\b[^>]*?\s(?:xml:)?lang\s*=\s*["']?([\w-]+)"""
    r"""|<meta\s[^>]*?http-equiv\s*=\s*["']?content-language["']?\s[^>]*?content\s*=\s*["']?([\w-]+)""",
    re.I,
)


def _str_attr(document: object, name: str) -> str | None:
    value = getattr(document, name, None)
    return single_line(value) if isinstance(value, str) else None


def from_html(html: str, url: str | None = None) -> Parts:
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
    lines = [line for line in tidy_lines(text) if line]
    if title and lines and same_words(lines[0], title):
        lines = lines[1:]
    body, _ = finish_body([part for line in lines for part in (line, "")])
    lang = _HTML_LANG_RE.search(html[:8192])
    author = _str_attr(document, "author")
    page_url = _str_attr(document, "url")
    return Parts(
        body=body,
        title=title,
        url=http_url(page_url) if page_url else None,
        authors=unique_names(split_authors(author)) if author else (),
        published_at=html_published_at(html, _str_attr(document, "date"), url or page_url),
        language=language_code(lang.group(1) or lang.group(2)) if lang else None,
        site_name=_str_attr(document, "sitename"),
    )
