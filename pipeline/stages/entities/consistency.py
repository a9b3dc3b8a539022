"""One name, one type across a document: a pass over the recogniser's mentions of one text.

0. A determiner or pronoun alone ("The", "He") is never a name.
1. Every mention of the same name gets the type most of its mentions have ("Lumora" three times
   ORG and once LOC is ORG throughout); a surname or first name alone gets two votes for the
   person whose full name it ends or starts ("Belichick" after "Bill Belichick" is PER).
2. A name found once is found everywhere: a later (or earlier) occurrence of a recognised name
   of two words or more, or of one capitalised word that is not at a sentence start, the model
   missed becomes a mention too, where it overlaps nothing found.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from pipeline.models import EntityType
from pipeline.stages.entities.linking import RawMention

__all__ = ["consistent"]

_FUNCTION_WORDS = frozenset(
    [
        "The",
        "A",
        "An",
        "This",
        "That",
        "These",
        "Those",
        "It",
        "He",
        "She",
        "They",
        "We",
        "I",
        "You",
        "His",
        "Her",
        "Its",
        "Their",
        "Our",
    ]
)
_FULL_NAME_VOTE = 2
"""A person's full name counts this many votes for its first name or surname alone."""
_SENTENCE_START = re.compile(r"(^|[.!?:\"\u201c\u201d]\s+|\n\s*)$")


def consistent(mentions: Sequence[RawMention], text: str) -> list[RawMention]:
    """``mentions`` of ``text`` with one type per name, and the missed occurrences added."""
    typed = _vote([m for m in mentions if m.text not in _FUNCTION_WORDS])
    return _propagate(typed, text)


def _vote(mentions: Sequence[RawMention]) -> list[RawMention]:
    votes: defaultdict[str, Counter[EntityType]] = defaultdict(Counter)
    for m in mentions:
        votes[m.text][m.type] += 1
    for m in mentions:
        words = m.text.split()
        if m.type is EntityType.PER and len(words) >= 2:
            for part in (words[0], words[-1]):
                if part in votes and part != m.text:
                    votes[part][EntityType.PER] += _FULL_NAME_VOTE
    chosen = {name: counts.most_common(1)[0][0] for name, counts in votes.items()}
    return [
        m if chosen[m.text] is m.type else RawMention(m.start, m.end, m.text, chosen[m.text])
        for m in mentions
    ]


def _propagate(mentions: list[RawMention], text: str) -> list[RawMention]:
    taken = sorted((m.start, m.end) for m in mentions)
    names = {m.text: m.type for m in mentions if _spreadable(m.text)}
    added: list[RawMention] = []
    for name, kind in names.items():
        pattern = re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])")
        for match in pattern.finditer(text):
            start, end = match.span()
            if _overlaps(taken, start, end):
                continue
            if " " not in name and _SENTENCE_START.search(text[:start]):
                continue
            added.append(RawMention(start, end, name, kind))
            taken.append((start, end))
            taken.sort()
    return sorted([*mentions, *added], key=lambda m: m.start)


def _spreadable(name: str) -> bool:
    letters = name.replace(".", "").replace(" ", "")
    return len(letters) >= 3 and name[:1].isupper()


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)
