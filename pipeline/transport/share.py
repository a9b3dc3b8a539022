"""Work shared among the processes of one kind through a consumer group: every ``mediamon feeds
run`` joins the group ``<MEDIAMON_APP_ID>-feed-readers`` on the feeds topic, and polls a feed only
when the slot its URL hashes to (:func:`slot`, one slot per partition of the topic) is one of the
partitions the group gave it. Started or stopped, the readers rebalance like the workers do: one
reader polls every feed, two split them, and a reader that dies has its feeds taken over within
the group's session timeout. The group only assigns: its partitions are paused, nothing is
read through it and nothing is committed (the feeds themselves come from
:mod:`pipeline.transport.compacted`).
"""

from __future__ import annotations

import logging
import threading
import zlib

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition

from pipeline.backoff import Backoff
from pipeline.settings import Settings
from pipeline.transport.client import connection_options

log = logging.getLogger(__name__)

_POLL_MS = 500


def slot(key: str, slots: int) -> int:
    """The slot of ``key`` among ``slots`` (stable across processes and restarts)."""
    return zlib.crc32(key.encode("utf-8")) % slots


class GroupShare(ConsumerRebalanceListener):  # type: ignore[misc]
    """This process's share of ``topic``'s slots in the consumer group ``group``, kept up to date
    from a thread; ``ready`` is set at the first assignment."""

    def __init__(self, settings: Settings, topic: str, group: str) -> None:
        self._settings = settings
        self._topic = topic
        self._group = group
        self._lock = threading.Lock()
        self._slots = 0
        self._mine: frozenset[int] = frozenset()
        self.ready = threading.Event()
        self._consumer: KafkaConsumer | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"share-{group}", daemon=True)

    def owns(self, key: str) -> bool:
        """Whether ``key`` is this process's to handle now (nothing is before the first
        assignment, nor between a revocation and the next assignment)."""
        with self._lock:
            return bool(self._slots) and slot(key, self._slots) in self._mine

    @property
    def share(self) -> tuple[int, int]:
        """How many slots are this process's, of how many."""
        with self._lock:
            return len(self._mine), self._slots

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        with self._lock:
            self._mine = frozenset()

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self._consumer
        assert consumer is not None  # called from within its poll
        slots = len(consumer.partitions_for_topic(self._topic) or ())
        consumer.pause(*assigned)
        with self._lock:
            self._slots = slots
            self._mine = frozenset(tp.partition for tp in assigned if tp.topic == self._topic)
        log.info(
            "%s: %d of %d slot(s) of %s are this process's",
            self._group,
            len(self._mine),
            slots,
            self._topic,
        )
        self.ready.set()

    def _connect(self) -> KafkaConsumer:
        s = self._settings
        consumer = KafkaConsumer(
            **connection_options(s),
            group_id=self._group,
            enable_auto_commit=False,
            session_timeout_ms=int(s.session_timeout_s * 1000),
            heartbeat_interval_ms=int(s.heartbeat_interval_s * 1000),
            max_poll_interval_ms=int(max(s.rebalance_timeout_s, s.session_timeout_s) * 1000),
        )
        consumer.subscribe([self._topic], listener=self)
        return consumer

    def _run(self) -> None:
        backoff = Backoff.of(self._settings, 1.0)
        while not self._stopping.is_set():
            try:
                if self._consumer is None:
                    self._consumer = self._connect()
                self._consumer.poll(timeout_ms=_POLL_MS)  # heartbeats and rebalances; paused
                backoff.reset()
            except Exception as exc:  # the broker may be away: the share is kept meanwhile
                delay = backoff.next()
                log.warning("%s: the group failed (%r); retrying in %.0fs", self._group, exc, delay)
                self._stopping.wait(delay)
        if self._consumer is not None:
            self._consumer.close()
