"""Where watch rules come from: the rule file (``MEDIAMON_WATCH_FILE``) and the watch topic
(``MEDIAMON_TOPIC_WATCH``, compacted: key = rule id, value = the rule's JSON, no value = removed).

The topic is read without a consumer group, every partition assigned from the beginning, so
that every reader (each worker, ``mediamon watch list``) sees every rule; ``mediamon watch add``
and ``remove`` write it with kafka-python's producer."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import orjson
from kafka import KafkaConsumer, TopicPartition

from pipeline.models import WatchRule
from pipeline.rules.watch import WatchRules, parse_rules
from pipeline.settings import Settings
from pipeline.transport.client import BrokerUnavailable, _reachable, connection_options, push

log = logging.getLogger(__name__)

_POLL_MS = 500


class WatchTopic:
    """The watch topic read into ``rules``: every partition assigned, from the beginning,
    without a consumer group (nothing is committed)."""

    def __init__(self, settings: Settings, rules: WatchRules) -> None:
        self._topic = settings.topic_watch
        self._rules = rules
        with _reachable(settings):
            self._consumer = KafkaConsumer(**connection_options(settings), enable_auto_commit=False)
        self._assigned: list[TopicPartition] = []

    def assign_new(self) -> None:
        """Assign the topic's partitions not assigned yet, from their beginning (the topic may
        be created, or grow, after the reader starts)."""
        ids = self._consumer.partitions_for_topic(self._topic)
        new = [TopicPartition(self._topic, p) for p in sorted(ids)]
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
                raise TimeoutError(f"could not read {self._topic} to its end in {timeout:.0f}s")
            self.poll()

    def poll(self) -> None:
        """Apply the records that arrive within half a second."""
        if not self._assigned:
            time.sleep(_POLL_MS / 1000)
            return
        for records in self._consumer.poll(timeout_ms=_POLL_MS).values():
            for r in records:
                self._rules.apply(r.key, r.value, f"{r.topic}[{r.partition}]@{r.offset}")

    def close(self) -> None:
        self._consumer.close()


def file_rules(settings: Settings) -> list[WatchRule]:
    """The valid rules of ``MEDIAMON_WATCH_FILE``. Every problem is logged (a bad rule is left
    out, an unreadable file gives no rules): a bad rule never stops a worker."""
    path = settings.watch_file
    if path is None:
        return []
    try:
        text = path.read_bytes()
    except OSError as exc:
        log.error("cannot read the watch file %s (%s); no rules from it", path, exc)
        return []
    rules, errors = parse_rules(text, str(path))
    for error in errors:
        log.error("%s; the rule is left out", error)
    log.info("%d watch rule(s) in %s", len(rules), path)
    return rules


def read_rules(settings: Settings) -> WatchRules:
    """The rules as a worker with these settings applies them: the file's and the watch
    topic's, read to its end."""
    rules = WatchRules(file_rules(settings))
    topic = WatchTopic(settings, rules)
    try:
        topic.catch_up(timeout=settings.connect_timeout_s * 3)
    except TimeoutError as exc:
        raise BrokerUnavailable(str(exc)) from exc
    finally:
        topic.close()
    return rules


def add_rules(settings: Settings, rules: Sequence[WatchRule]) -> None:
    """Publish ``rules`` to the watch topic (replacing any of the same id) and wait until the
    broker has acknowledged each."""
    values = [orjson.dumps(rule.model_dump(mode="json", exclude_defaults=True)) for rule in rules]
    push(settings, values, settings.topic_watch, keys=[rule.id.encode() for rule in rules])


def remove_rules(settings: Settings, rule_ids: Sequence[str]) -> None:
    """Publish a tombstone for each of ``rule_ids`` to the watch topic."""
    keys = [rule_id.encode() for rule_id in rule_ids]
    push(settings, [None] * len(keys), settings.topic_watch, keys=keys)
