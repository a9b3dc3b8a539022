"""The analysis cache: what the NLP stages found in an article (entities, quotations, stances,
places, topics), kept by what they read (title, body, year of publication), so that an exact
copy of a recent article (a redelivery after a rebalance, the same wire story from another feed)
skips them and gets the same results. Bounded, least recently used first out; one per enricher,
used from one thread."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from pipeline.models import Entity, Quote, Stance, Topic

Key = tuple[str, str | None, int | None]
"""Content hash of the body, title, year of publication: everything the NLP stages read."""


@dataclass(frozen=True, slots=True)
class Found:
    """One article's results; ``None`` where a stage did not give any (failed or switched off)."""

    entities: list[Entity]
    quotes: list[Quote] | None
    stances: list[Stance] | None
    stance_model: str | None
    places: list[str] | None
    topics: list[Topic] | None

    def copy(self) -> Found:
        """A deep copy, so that two events never share a mutable model."""
        return Found(
            entities=[entity.model_copy(deep=True) for entity in self.entities],
            quotes=_copies(self.quotes),
            stances=_copies(self.stances),
            stance_model=self.stance_model,
            places=None if self.places is None else list(self.places),
            topics=_copies(self.topics),
        )


_Model = TypeVar("_Model", bound=BaseModel)


def _copies(items: list[_Model] | None) -> list[_Model] | None:
    return None if items is None else [item.model_copy(deep=True) for item in items]


class AnalysisCache:
    """At most ``size`` articles' results (0: nothing is kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._found: OrderedDict[Key, Found] = OrderedDict()

    def __len__(self) -> int:
        return len(self._found)

    def __contains__(self, key: object) -> bool:
        return key in self._found

    def get(self, key: Key) -> Found | None:
        """A copy of the results kept under ``key``, which becomes the most recently used."""
        found = self._found.get(key)
        if found is None:
            return None
        self._found.move_to_end(key)
        return found.copy()

    def put(self, key: Key, found: Found) -> None:
        if self.size <= 0:
            return
        self._found[key] = found.copy()
        self._found.move_to_end(key)
        while len(self._found) > self.size:
            self._found.popitem(last=False)
