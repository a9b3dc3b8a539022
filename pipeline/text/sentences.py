"""Sentence boundaries of a body, as character spans: the one sentence splitter of the stages
(the topic stages' evidence and co-occurrence rules, stance, quotations within a paragraph).

Rules, no parser: a sentence ends at a line break, or at ``.``, ``!`` or ``?`` (with any closing
quotation marks and brackets) followed by white space and a capital, a digit or an opening
mark, unless the period ends an abbreviation ("U.S.", "Mr.", "Sept.", "Gen.", an initial).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

_END = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*(?=\s+[\"'\u201c\u2018\u00ab(\[]?[A-Z0-9])"
)
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
_ABBREVIATIONS = frozenset(
    (
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "gen",
        "lt",
        "col",
        "maj",
        "capt",
        "sgt",
        "rep",
        "sen",
        "gov",
        "pres",
        "st",
        "mt",
        "jr",
        "sr",
        "co",
        "corp",
        "inc",
        "ltd",
        "no",
        "vs",
        "etc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "rev",
        "fr",
        "hon",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
    )
)


@dataclass(frozen=True, slots=True)
class Sentences:
    """The sentences of one text: ``spans[i]`` is ``(start, end)`` of sentence ``i``."""

    spans: tuple[tuple[int, int], ...]
    _starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> Sentences:
        spans = tuple(split(text))
        return cls(spans, tuple(start for start, _ in spans))

    def index(self, offset: int) -> int:
        """The sentence that holds character ``offset`` (the preceding one between two)."""
        return max(0, bisect_right(self._starts, offset) - 1)

    def __len__(self) -> int:
        return len(self.spans)


def split(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, white space trimmed, in order."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        spans.extend(split_range(text, pos, end))
        pos = end + 1
    return spans


def split_range(
    text: str, start: int, end: int, keep_together: Sequence[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    """The sentences of ``text[start:end]`` (one line), white space trimmed; never split
    inside a span of ``keep_together`` (such as a quotation)."""
    spans: list[tuple[int, int]] = []
    for match in _END.finditer(text, start, end):
        if text[match.start()] == "." and is_abbreviation(text, start, match.start() + 1):
            continue
        if any(a <= match.start() and match.end() < b for a, b in keep_together):
            continue
        _add(spans, text, start, match.end())
        start = match.end()
    _add(spans, text, start, end)
    return spans


def is_abbreviation(text: str, start: int, dot_end: int) -> bool:
    """Whether the period ending at ``dot_end`` ends an abbreviation ("Mr.", "U.S.", an
    initial), looking no further back than ``start``."""
    word = _LAST_WORD.search(text, max(start, dot_end - 24), dot_end)
    if word is None:
        return False
    letters = word.group(1).rstrip(".")
    return "." in letters or len(letters) == 1 or letters.lower() in _ABBREVIATIONS


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
