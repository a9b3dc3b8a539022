"""Quotation-mark scanning: paragraphs, paired marks, sentences split outside quotes, spans."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.text.sentences import split_range

_OPENERS = "“«„「"
_CLOSERS = "”»」"
_STRAIGHT = '"'
_CLOSER_OF = {"«": "»", "„": "“", "「": "」", _STRAIGHT: _STRAIGHT}
"""The closing mark of an opening one ("„" closes with "“" in German, or "”"; "“" with "”")."""


@dataclass(slots=True)
class Mark:
    start: int  # content start
    end: int  # content end
    open_ended: bool
    continued: bool  # opens a paragraph that continues an open-ended quote


def find_paragraphs(body: str) -> list[tuple[int, int]]:
    out = []
    pos = 0
    for line in body.split("\n"):
        if line.strip():
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def first_char(body: str, start: int) -> int:
    while start < len(body) and body[start].isspace():
        start += 1
    return start


def pair_marks(body: str, start: int, end: int) -> list[Mark]:
    """Quoted spans of one paragraph (content offsets, without the marks). Straight marks open
    after a space or bracket and close before a non-letter; ``''`` counts as a straight mark."""
    marks: list[Mark] = []
    open_at: int | None = None  # content start
    closer = ""
    i = start
    while i < end:
        ch = body[i]
        width = 1
        if ch == "'" and i + 1 < end and body[i + 1] == "'":
            ch, width = _STRAIGHT, 2
        elif ch not in _OPENERS and ch not in _CLOSERS and ch != _STRAIGHT:
            i += 1
            continue
        if open_at is None:
            prev = body[i - 1] if i > start else " "
            if ch in _OPENERS or (ch == _STRAIGHT and (prev.isspace() or prev in "([{—\u2013-/:")):
                open_at = i + width
                closer = _CLOSER_OF.get(ch, "”")
        else:
            if ch == _STRAIGHT and closer == '"':
                nxt = body[i + width] if i + width < end else " "
                is_close = not nxt.isalnum()
            else:
                is_close = ch == closer or ch in _CLOSERS or (ch == _STRAIGHT and closer == "”")
            if is_close:
                marks.append(Mark(open_at, i, False, False))
                open_at = None
        i += width
    if open_at is not None:
        marks.append(Mark(open_at, end, True, False))
    return marks


def quoted_spans(body: str) -> list[tuple[int, int]]:
    """The content spans of every quotation of ``body``, in order."""
    return sorted((m.start, m.end) for p in find_paragraphs(body) for m in pair_marks(body, *p))


def split_sentences(body: str, start: int, end: int, marks: list[Mark]) -> list[tuple[int, int]]:
    """The sentences of one paragraph, never split inside a quotation."""
    return split_range(body, start, end, [(m.start, m.end) for m in marks])


def nwords(body: str, start: int, end: int) -> int:
    return len(re.findall(r"\w+", body[start:end]))


def quote_only(body: str, s_start: int, s_end: int, marks: list[Mark]) -> bool:
    rest = body[s_start:s_end]
    for m in reversed(marks):
        a, b = m.start - s_start, m.end - s_start
        rest = rest[: max(0, a - 1)] + rest[b + 1 :]
    return nwords(rest, 0, len(rest)) <= 1


def trim_end(body: str, start: int, end: int) -> int:
    while end > start and (body[end - 1].isspace() or body[end - 1] in '.!?"”\u2019»'):
        end -= 1
    return end


def strip_span(body: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (body[start].isspace() or body[start] in "\"“”«»'"):
        start += 1
    while end > start and (body[end - 1].isspace() or body[end - 1] in "\"“”«»',"):
        end -= 1
    return start, end


def nonempty(body: str, parts: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    kept = [(a, b) for a, b in parts if nwords(body, a, b) >= 2]
    return kept or None
