"""The knowledge base shipped with the package (``pipeline/data/kb.json``, built by
``scripts/build_kb.py``): countries with ISO codes and demonyms, capitals and news cities,
regions, seats of government, intergovernmental organisations, armed and political groups,
news agencies, and heads of state and government and foreign ministers with their offices.

Lookups are by exact alias first, then by a folded key (case, accents, a leading "the" and a
possessive ignored); short all-capital acronyms ("IS", "AP", "WHO") match only exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline import DATA_DIR
from pipeline.models import EntityType
from pipeline.text.folding import fold

KB_PATH = DATA_DIR / "kb.json"

# Kinds of entries that stand for a country's territory or government; ``places`` counts them.
PLACE_KINDS = frozenset({"country", "former-country", "capital", "city", "region"})


def _is_acronym(alias: str) -> bool:
    letters = alias.replace(".", "")
    return len(letters) <= 4 and letters.isupper()


@dataclass(frozen=True, slots=True)
class Role:
    """An office held: ``title`` of ``of`` (a country or organisation id) from ``start`` to
    ``end`` (years, inclusive; ``end`` None while in office)."""

    title: str
    of: str
    start: int
    end: int | None


@dataclass(frozen=True, slots=True)
class KBEntry:
    id: str
    name: str
    type: EntityType
    kind: str
    country: str | None = None
    aliases: tuple[str, ...] = ()
    demonyms: tuple[str, ...] = ()
    metonym_of: str | None = None
    short: tuple[str, ...] | None = None
    roles: tuple[Role, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def short_forms(self) -> tuple[str, ...]:
        """The forms a later mention of a person may take: explicit ones, else the last word of
        each multi-word name ("Putin", "Assad")."""
        if self.short is not None:
            return self.short
        forms = []
        for name in self.names:
            words = name.split()
            if len(words) > 1 and not words[-1].endswith("."):
                last = words[-1]
                forms.append(last)
                if last.lower().startswith(("al-", "el-")):
                    forms.append(last[3:])
        return tuple(dict.fromkeys(forms))


@dataclass(slots=True)
class KnowledgeBase:
    """An in-memory index over the entries."""

    entries: dict[str, KBEntry]
    titles: tuple[str, ...] = ()
    role_titles: dict[str, str] = field(default_factory=dict)
    _exact: dict[str, list[KBEntry]] = field(default_factory=dict)
    _folded: dict[str, list[KBEntry]] = field(default_factory=dict)
    _demonyms: dict[str, KBEntry] = field(default_factory=dict)
    _short: dict[str, list[KBEntry]] = field(default_factory=dict)
    _by_country: dict[str, KBEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.entries.values():
            for alias in entry.names:
                _add(self._exact, alias, entry)
                if not _is_acronym(alias):
                    _add(self._folded, fold(alias), entry)
            for demonym in entry.demonyms:
                self._demonyms.setdefault(demonym, entry)
                self._demonyms.setdefault(fold(demonym), entry)
            if entry.type == EntityType.PER:
                for form in entry.short_forms():
                    _add(self._short, form, entry)
            if entry.kind == "country" and entry.country:
                self._by_country[entry.country] = entry

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KnowledgeBase:
        entries = {}
        for raw in data["entries"]:
            entry = KBEntry(
                id=raw["id"],
                name=raw["name"],
                type=EntityType(raw["type"]),
                kind=raw["kind"],
                country=raw.get("country"),
                aliases=tuple(raw.get("aliases", ())),
                demonyms=tuple(raw.get("demonyms", ())),
                metonym_of=raw.get("metonym_of"),
                short=tuple(raw["short"]) if "short" in raw else None,
                roles=tuple(
                    Role(r["title"], r["of"], r["start"], r.get("end"))
                    for r in raw.get("roles", ())
                ),
            )
            entries[entry.id] = entry
        return cls(
            entries=entries,
            titles=tuple(sorted(data.get("titles", ()), key=len, reverse=True)),
            role_titles=dict(data.get("role_titles", {})),
        )

    @classmethod
    def load(cls, path: Path = KB_PATH) -> KnowledgeBase:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[KBEntry]:
        return iter(self.entries.values())

    def get(self, entry_id: str) -> KBEntry | None:
        return self.entries.get(entry_id)

    def lookup(self, name: str) -> list[KBEntry]:
        """Entries one of whose names is ``name`` (exactly, else folded)."""
        exact = self._exact.get(name.strip())
        if exact:
            return exact
        return self._folded.get(fold(name), [])

    def exact(self, name: str) -> list[KBEntry]:
        """Entries one of whose names is exactly ``name``."""
        return self._exact.get(name, [])

    def demonym(self, word: str) -> KBEntry | None:
        """The country whose demonym ``word`` is ("Russian", "Kazakhs"), if any."""
        return self._demonyms.get(word.strip()) or self._demonyms.get(fold(word))

    def by_short_form(self, word: str) -> list[KBEntry]:
        """People a short form ("Putin", "Assad") may refer to."""
        return self._short.get(word.strip(), [])

    def country(self, code: str) -> KBEntry | None:
        """The country entry of an ISO 3166-1 alpha-2 code."""
        return self._by_country.get(code.upper())

    def holder(self, title: str, of: str, year: int | None = None) -> KBEntry | None:
        """Who held office ``title`` of ``of`` (an entry id) in ``year`` (None: now)."""
        found: list[tuple[int, KBEntry]] = []
        for entry in self.entries.values():
            for role in entry.roles:
                if role.of != of or role.title.casefold() != title.casefold():
                    continue
                if (year is None and role.end is None) or (
                    year is not None and role.start <= year and (role.end or 9999) >= year
                ):
                    found.append((role.start, entry))
        if not found:
            return None
        return max(found, key=lambda item: item[0])[1]

    def names_of(self, entry_id: str) -> Iterable[str]:
        """Every surface form of an entry: names, demonyms and short forms."""
        entry = self.entries.get(entry_id)
        if entry is None:
            return ()
        extra = entry.short_forms() if entry.type == EntityType.PER else ()
        return (*entry.names, *entry.demonyms, *extra)


def _add(index: dict[str, list[KBEntry]], key: str, entry: KBEntry) -> None:
    bucket = index.setdefault(key, [])
    if entry not in bucket:
        bucket.append(entry)


@lru_cache(maxsize=1)
def default_kb() -> KnowledgeBase:
    """The shipped knowledge base, loaded once."""
    return KnowledgeBase.load()
