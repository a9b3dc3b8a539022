"""Lines of text: control characters, Markdown inline markup, promotion lines, trailers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
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

_PROMO_RE = re.compile(
    r"^\W*(?:(?:read|see) (?:more|also)|also read|related(?: \w+)?|more on this(?: story)?"
    r"|don'?t miss|you (?:may|might) also like|explore further|recommended(?: for you)?"
    r"|advertisement|subscribe to\b.*|click here to subscribe\b.*)\W*$"
    r"|^\W*(?:(?:read|see) (?:more|also)|also read|related(?: \w+)?)\s*:",
    re.I,
)
_MAX_PROMO_CHARS = 200
BARE_URL_RE = re.compile(r"<?(https?://\S+?)>?")
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


def tidy_lines(text: str) -> list[str]:
    """The lines of ``text`` without control characters, with single spaces, trimmed."""
    return [" ".join(line.split()) for line in _CONTROL_CHARS_RE.sub("", text).split("\n")]


def inline(text: str) -> str:
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


def same_words(a: str, b: str) -> bool:
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
        bare = BARE_URL_RE.fullmatch(line)
        label = _URL_LABEL_RE.fullmatch(line)
        if bare is not None:
            pending = bare.group(1)
        elif label is not None:
            url = url or label.group(1) or pending
        elif line and not (len(line) <= _MAX_TRAILER_CHARS and _TRAILER_RE.search(line)):
            break
        end -= 1
    return lines[:end], url


def split_blocks(lines: Iterable[str]) -> Iterator[list[str]]:
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


def finish_body(lines: list[str]) -> tuple[str, str | None]:
    """The body from cleaned lines (promotion lines and trailer gone) and a trailer URL."""
    kept = [
        line for line in lines if not (len(line) <= _MAX_PROMO_CHARS and _PROMO_RE.search(line))
    ]
    kept, url = _strip_trailer(kept)
    return "\n\n".join("\n".join(block) for block in split_blocks(kept)), url
