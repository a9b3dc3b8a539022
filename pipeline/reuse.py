"""The analysis cache: what the article stages wrote on an article (the fields their
``writes`` name: entities, quotations, stances, places, topics...), kept by what they read
(title, body, year of publication), so that an exact copy of a recent article (a redelivery
after a rebalance, the same wire story from another feed) skips them and gets the same results.
Bounded, least recently used first out; one per enricher, used from one thread."""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

Key = tuple[str, str | None, int | None]
"""Content hash of the body, title, year of publication: everything the stages read."""

Found = dict[str, Any]
"""One article's results by field name; None where a stage gave none (switched off)."""


class AnalysisCache:
    """At most ``size`` articles' results (0: nothing is kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._found: OrderedDict[Key, Found] = OrderedDict()

    def __len__(self) -> int:
        return len(self._found)

    def __contains__(self, key: object) -> bool:
        return key in self._found

    @staticmethod
    def copy(found: Found) -> Found:
        """A deep copy, so that two events never share a mutable model."""
        return copy.deepcopy(found)

    def get(self, key: Key) -> Found | None:
        """A copy of the results kept under ``key``, which becomes the most recently used."""
        found = self._found.get(key)
        if found is None:
            return None
        self._found.move_to_end(key)
        return self.copy(found)

    def put(self, key: Key, found: Found) -> None:
        if self.size <= 0:
            return
        self._found[key] = self.copy(found)
        self._found.move_to_end(key)
        while len(self._found) > self.size:
            self._found.popitem(last=False)
