"""Compacted topics read whole by every reader: the watch rules (``MEDIAMON_TOPIC_WATCH``), the
feed list (``MEDIAMON_TOPIC_FEEDS``) and the URLs the feed readers have fetched
(``MEDIAMON_TOPIC_FEEDS_SEEN``). Key = the item's id, value = its JSON, no value = removed.

Such a topic is read without a consumer group, every partition assigned from the beginning, so
that every reader sees every record; :class:`TopicFollower` keeps following it from a thread
(kafka-python is synchronous), retrying with backoff while the broker is away. Each record goes
to an ``apply(key, value, where)`` callback: the reader knows nothing of what the records mean.
The file whose items such a topic joins (``MEDIAMON_WATCH_FILE``, ``MEDIAMON_FEEDS_FILE``) is read
here too (:func:`file_items`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kafka import KafkaConsumer, TopicPartition

from pipeline.backoff import Backoff
from pipeline.settings import Settings
from pipeline.transport.client import BrokerUnavailable, _reachable, connection_options

log = logging.getLogger(__name__)

_POLL_MS = 500

Apply = Callable[[bytes | None, bytes | None, str], None]
"""What a reader does with one record: ``apply(key, value, where)``."""


class CompactedTopic:
    """``topic`` read into ``apply``: every partition assigned, from the beginning, without a
    consumer group (nothing is committed)."""

    def __init__(self, settings: Settings, topic: str, apply: Apply) -> None:
        self.topic = topic
        self._apply = apply
        with _reachable(settings):
            self._consumer = KafkaConsumer(**connection_options(settings), enable_auto_commit=False)
        self._assigned: list[TopicPartition] = []

    def assign_new(self) -> None:
        """Assign the topic's partitions not assigned yet, from their beginning (the topic may
        be created, or grow, after the reader starts)."""
        ids = self._consumer.partitions_for_topic(self.topic)
        new = [TopicPartition(self.topic, p) for p in sorted(ids)]
        new = [tp for tp in new if tp not in self._assigned]
        if not new:
            return
        positions = {tp: self._consumer.position(tp) for tp in self._assigned}
        self._assigned += new
        self._consumer.assign(self._assigned)  # replaces the assignment: restore the positions
        for tp, offset in positions.items():
            self._consumer.seek(tp, offset)
        self._consumer.seek_to_beginning(*new)

    def catch_up(self, timeout: float | None = None) -> None:
        """Read every record the topic holds now (none if it does not exist yet); raises
        ``TimeoutError`` after ``timeout`` seconds."""
        self.assign_new()
        if not self._assigned:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        ends = self._consumer.end_offsets(self._assigned)
        while any(self._consumer.position(tp) < end for tp, end in ends.items()):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"could not read {self.topic} to its end in {timeout:.0f}s")
            self.poll()

    def poll(self) -> None:
        """Apply the records that arrive within half a second."""
        if not self._assigned:
            time.sleep(_POLL_MS / 1000)
            return
        for records in self._consumer.poll(timeout_ms=_POLL_MS).values():
            for r in records:
                self._apply(r.key, r.value, f"{r.topic}[{r.partition}]@{r.offset}")

    def close(self) -> None:
        self._consumer.close()


T = TypeVar("T")


def file_items(
    path: Path | None, parse: Callable[[bytes, str], tuple[list[T], list[str]]], what: str
) -> list[T]:
    """The valid items of the file at ``path`` (watch rules, feeds) that the topic's items
    join. Every problem is logged (a bad item is left out, an unreadable file gives none)."""
    if path is None:
        return []
    try:
        text = path.read_bytes()
    except OSError as exc:
        log.error("cannot read the %s file %s (%s); nothing from it", what, path, exc)
        return []
    items, errors = parse(text, str(path))
    for error in errors:
        log.error("%s; left out", error)
    log.info("%d item(s) in the %s file %s", len(items), what, path)
    return items


def read_whole(settings: Settings, topic: str, apply: Apply) -> None:
    """Apply every record ``topic`` holds now, then close the reader (``BrokerUnavailable``
    when it cannot be read to its end in three connection timeouts)."""
    reader = CompactedTopic(settings, topic, apply)
    try:
        reader.catch_up(timeout=settings.connect_timeout_s * 3)
    except TimeoutError as exc:
        raise BrokerUnavailable(str(exc)) from exc
    finally:
        reader.close()


class TopicFollower:
    """Applies the records of ``topic`` from a thread of its own; ``ready`` is set once the
    topic has been read to the end it had when the reader started. The broker being away only
    delays: the reader retries with backoff. Partitions created later are picked up every
    ``MEDIAMON_WATCH_REFRESH_S``."""

    def __init__(self, settings: Settings, topic: str, apply: Apply, describe: str) -> None:
        self._settings = settings
        self._topic = topic
        self._apply = apply
        self._describe = describe
        self.ready = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"follow-{topic}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        reader: CompactedTopic | None = None
        backoff = Backoff.of(self._settings, 1.0)
        refreshed = time.monotonic()
        while not self._stopping.is_set():
            try:
                if reader is None:
                    reader = CompactedTopic(self._settings, self._topic, self._apply)
                if not self.ready.is_set():
                    reader.catch_up()
                    self.ready.set()
                    log.info("%s read from %s", self._describe, self._topic)
                reader.poll()
                if time.monotonic() - refreshed > self._settings.watch_refresh_s:
                    reader.assign_new()
                    refreshed = time.monotonic()
                backoff.reset()
            except Exception as exc:  # the broker may be away: what was read stays as it is
                delay = backoff.next()
                log.warning("reading %s failed (%r); retrying in %.0fs", self._topic, exc, delay)
                self._stopping.wait(delay)
        if reader is not None:
            reader.close()
