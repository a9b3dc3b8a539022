"""The items of a compacted topic over those of a file: watch rules, feeds. The file's items
come first; a topic record of the same key replaces one, a tombstone (no value) removes the
topic's. Pure: the records are given to :meth:`KeyedItems.apply` by a topic reader
(``pipeline.transport.compacted``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def describe(error: ValidationError) -> str:
    """A pydantic validation error in one line: ``field.path: message; ...``."""
    parts = []
    for detail in error.errors():
        where = ".".join(str(part) for part in detail["loc"])
        parts.append(f"{where}: {detail['msg']}" if where else detail["msg"])
    return "; ".join(parts)


class KeyedItems(Generic[M]):
    """The items in use: ``file`` (by key) and ``topic`` (by key), which replaces a file item of
    the same key (the field ``key_field``); ``active`` lists them. ``on_change`` receives the
    number of active items."""

    def __init__(
        self,
        model: type[M],
        key_of: Callable[[M], str],
        name: str,
        key_field: str,
        file_items: Iterable[M] = (),
        on_change: Callable[[int], None] = lambda count: None,
    ) -> None:
        self._model = model
        self._key_of = key_of
        self._name = name
        self._key_field = key_field
        self.file = {key_of(item): item for item in file_items}
        self.topic: dict[str, M] = {}
        self._on_change = on_change
        self.active: list[M] = []
        self._changed()

    def _changed(self) -> None:
        # one assignment: the users read it while the topic reader's thread writes
        self.active = list((self.file | self.topic).values())
        self._on_change(len(self.active))

    def apply(self, key: bytes | None, value: bytes | None, where: str) -> None:
        """Apply one record of the topic: an item, keyed by its key, or a tombstone (no value)
        that removes it. A record that is not a valid item is logged, and its key then has no
        topic item, as after a tombstone: the latest record of a key decides, whenever the
        topic is read."""
        if key is None:
            log.error("%s: a record without a key (the %s's key); skipped", where, self._name)
            return
        item_key = key.decode("utf-8", "replace")
        if value is None:
            if self.topic.pop(item_key, None) is not None:
                log.info("%s %s removed", self._name, item_key)
                self._changed()
            return
        try:
            item = self._model.model_validate_json(value)
        except ValidationError as exc:
            self._reject(item_key, where, describe(exc))
            return
        if self._key_of(item) != item_key:
            found = f"its {self._key_field} is {self._key_of(item)!r}, not its key"
            self._reject(item_key, where, found)
            return
        log.info("%s %s %s", self._name, item_key, "updated" if item_key in self.topic else "added")
        self.topic[item_key] = item
        self._changed()

    def _reject(self, item_key: str, where: str, reason: str) -> None:
        log.error("%s: %s %s is not valid, skipped: %s", where, self._name, item_key, reason)
        if self.topic.pop(item_key, None) is not None:
            self._changed()
