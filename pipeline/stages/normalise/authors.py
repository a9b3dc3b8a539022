"""Author names: bylines split into names, checked and deduplicated."""

from __future__ import annotations

import re
from collections.abc import Iterable

BY_RE = re.compile(r"^\s*(?:written\s+)?by\b[\s:]*", re.I)
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


def author_name(text: str) -> str | None:
    name = " ".join(BY_RE.sub("", text).split()).strip(" .")
    return name if _is_name(name) else None


def split_authors(text: str) -> list[str]:
    """'By Jane Doe and John Roe' / 'Jane Doe, John Roe; Ann Poe' -> the names."""
    names = (author_name(part) for part in _AUTHOR_SEPARATORS_RE.split(BY_RE.sub("", text)))
    return [name for name in names if name]


def unique_names(names: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return tuple(seen.values())
