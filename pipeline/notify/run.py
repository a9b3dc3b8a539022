"""``mediamon notify run``: reads the alerts topic in a consumer group of its own
(``<MEDIAMON_APP_ID>-notify``), so the workers never wait for a target, and delivers each alert
of a rule that names targets (``notify``) to each of them, at once or in the rule's digest.

At-least-once: an alert's offset is committed only once its message went to every target, or,
for a target that refused it or kept failing, once its dead letter (the notify dead-letter
topic) is acknowledged. An alert held for a digest keeps its partition's commit behind it, so a
restart sends it again rather than losing it. The watch rules are followed like the workers
follow them (``pipeline.transport.compacted``)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from pydantic import ValidationError

from pipeline.keyed import describe
from pipeline.metrics import Metrics
from pipeline.models import Alert, NotifyDeadLetter, WatchRule, encode
from pipeline.notify.messages import Message
from pipeline.notify.pacing import Pacer
from pipeline.notify.targets import DeliveryFailed, deliver, kind, resolve, shown
from pipeline.rules.watch import WatchRules
from pipeline.settings import Settings
from pipeline.transport.client import (
    BrokerUnavailable,
    Producer,
    _reachable,
    connection_options,
)
from pipeline.transport.compacted import TopicFollower
from pipeline.transport.side import start_side_process
from pipeline.transport.watch import file_rules

log = logging.getLogger(__name__)

Token = tuple[TopicPartition, int]


class Offsets:
    """Per partition: the next offset to read and the offsets still waiting for delivery."""

    def __init__(self) -> None:
        self._next: dict[TopicPartition, int] = {}
        self._pending: dict[TopicPartition, set[int]] = {}

    def read(self, token: Token) -> None:
        tp, offset = token
        self._next[tp] = offset + 1

    def hold(self, token: Token) -> None:
        self._pending.setdefault(token[0], set()).add(token[1])

    def release(self, tokens: Sequence[Token]) -> None:
        for tp, offset in tokens:
            self._pending.get(tp, set()).discard(offset)

    def committable(self) -> dict[TopicPartition, OffsetAndMetadata]:
        """What may be committed: the oldest pending offset of a partition, else its next."""
        return {
            tp: OffsetAndMetadata(min(self._pending.get(tp) or {end}), "", -1)
            for tp, end in self._next.items()
        }


class Notifier:
    """Sends the alerts of the rules in ``rules`` to their targets."""

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        rules: WatchRules,
        producer: Producer,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._rules = rules
        self._producer = producer
        self._sleep = sleep
        self.pacer: Pacer[Token] = Pacer()

    def take(self, alert: Alert, token: Token, now: float) -> bool:
        """Handle one alert; False when it is held for a digest (its token comes back from
        :meth:`due_digests`)."""
        rule = {r.id: r for r in self._rules.active}.get(alert.rule_id)
        if rule is None or not rule.notify:
            return True
        if rule.notify_digest_minutes:
            self.pacer.hold(rule, alert, token, now)
            self._metrics.notify_held.set(self.pacer.held)
            return False
        self._send(rule, Message(rule.id, [alert]), now)
        return True

    def due_digests(self, now: float) -> list[Token]:
        """Send the digests whose time has come; the tokens of their alerts."""
        tokens: list[Token] = []
        for digest in self.pacer.due(now):
            self._send(digest.rule, Message(digest.rule.id, digest.alerts, digest=True), now)
            tokens += digest.tokens
        self._metrics.notify_held.set(self.pacer.held)
        return tokens

    def _send(self, rule: WatchRule, message: Message, now: float) -> None:
        allowed = self.pacer.allow(rule, now)
        for target in rule.notify:
            try:
                url = resolve(target, self._settings)
            except DeliveryFailed as exc:
                self._dead_letter(rule, target, message, exc, 0)
                continue
            counted = self._metrics.notifications.labels(kind=kind(url), outcome="rate_limited")
            if not allowed:
                counted.inc()
                continue
            self._deliver(rule, target, url, message)

    def _deliver(self, rule: WatchRule, target: str, url: str, message: Message) -> None:
        failed = self._metrics.notify_failed_attempts.labels(kind=kind(url))
        attempts = 0

        def on_failure(exc: DeliveryFailed) -> None:
            nonlocal attempts
            attempts += 1
            failed.inc()
            log.warning("notifying %s of %s failed: %s", shown(target), rule.id, exc)

        try:
            deliver(url, message, self._settings, on_failure, self._sleep)
        except DeliveryFailed as exc:
            self._dead_letter(rule, target, message, exc, attempts)
            return
        self._metrics.notifications.labels(kind=kind(url), outcome="sent").inc()

    def _dead_letter(
        self, rule: WatchRule, target: str, message: Message, exc: DeliveryFailed, attempts: int
    ) -> None:
        record = NotifyDeadLetter(
            rule_id=rule.id,
            target=shown(target),
            error=str(exc),
            attempts=attempts,
            alerts=message.alerts,
            failed_at=datetime.now(UTC),
        )
        topic = self._settings.topic_notify_deadletter
        self._producer.send([(topic, rule.id.encode(), encode(record))])
        target_kind = kind(target) if "://" in target else "webhook"
        self._metrics.notifications.labels(kind=target_kind, outcome="dead_lettered").inc()
        log.error("%s: alerts of %s dead-lettered (%s)", shown(target), rule.id, exc)


def _alert(record: Any) -> Alert | None:
    try:
        return Alert.model_validate_json(record.value)
    except ValidationError as exc:
        log.error("%s@%d is not an alert, skipped: %s", record.topic, record.offset, describe(exc))
        return None


def run_notifier(settings: Settings, echo: Callable[[str], None]) -> None:
    """Deliver alerts until SIGTERM or SIGINT."""
    metrics = start_side_process(settings, settings.notify_metrics_port)
    rules = WatchRules(file_rules(settings))
    follower = TopicFollower(settings, settings.topic_watch, rules.apply, "watch rules")
    follower.start()
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, frame: stopping.set())
    producer = Producer(settings)
    with _reachable(settings):
        consumer = KafkaConsumer(
            settings.topic_alerts,
            **connection_options(settings),
            group_id=f"{settings.app_id}-notify",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
    try:
        if not follower.ready.wait(settings.connect_timeout_s * 3):
            raise BrokerUnavailable(f"{settings.topic_watch} could not be read")
        notified = sum(1 for rule in rules.active if rule.notify)
        echo(f"notify: {notified} rule(s) with targets; reading {settings.topic_alerts}")
        _consume(consumer, Notifier(settings, metrics, rules, producer), stopping)
    finally:
        follower.stop()
        consumer.close()
        producer.close()


def _consume(consumer: KafkaConsumer, notifier: Notifier, stopping: threading.Event) -> None:
    offsets = Offsets()
    committed: dict[TopicPartition, OffsetAndMetadata] = {}
    while not stopping.is_set():
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                token = (TopicPartition(record.topic, record.partition), record.offset)
                offsets.read(token)
                alert = _alert(record)
                if alert is not None and not notifier.take(alert, token, time.time()):
                    offsets.hold(token)
        offsets.release(notifier.due_digests(time.time()))
        committable = offsets.committable()
        if committable != committed:
            try:
                consumer.commit(committable)
                committed = committable
            except KafkaError as exc:  # a rebalance: the next owner reads from the last commit
                log.warning("commit failed (%r); alerts since the last commit may repeat", exc)
