"""kafka-python clients for the command line: create the topics, push raw articles, tail a topic."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAlreadyExistsError

from pipeline.settings import Settings
from pipeline.transport.codecs import require_codecs


class BrokerUnavailable(RuntimeError):
    """The configured broker could not be reached."""


def connection_options(settings: Settings) -> dict[str, Any]:
    """kafka-python connection options: servers, timeout, and SASL/TLS from the settings
    (every client the command line makes takes them; its codecs are checked first)."""
    require_codecs()
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "bootstrap_timeout_ms": int(settings.connect_timeout_s * 1000),
        "security_protocol": settings.security_protocol,
    }
    if settings.uses_tls:
        options["ssl_context"] = settings.ssl_context()
    if settings.uses_sasl:
        password = settings.sasl_password
        options |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": password.get_secret_value() if password else None,
        }
    return options


@contextlib.contextmanager
def _reachable(settings: Settings) -> Iterator[None]:
    """Turn a failed connection into a clear :class:`BrokerUnavailable`."""
    try:
        yield
    except KafkaTimeoutError as exc:
        raise BrokerUnavailable(
            f"no Kafka broker reachable at {', '.join(settings.bootstrap_servers)}"
            " (set MEDIAMON_BROKER, or start one with `mediamon broker`)"
        ) from exc


def ensure_topics(settings: Settings) -> list[str]:
    """Create the ingest topic, the output topics (the notifier's dead letters too), the trend
    topics, and the compacted topics of the watch rules, the feeds and the feeds' seen URLs (the
    latest record of a key is the item; seen URLs also expire) if missing; return those
    created. The feeds topic has the partitions of the others, as the feed readers share its
    partitions out (``pipeline.transport.share``); the other compacted topics have one."""
    specs = [
        NewTopic(name, settings.partitions, settings.replication_factor)
        for name in [
            settings.topic_raw,
            *settings.output_topics,
            settings.topic_notify_deadletter,
            *settings.trend_topics,
        ]
    ]
    retention_ms = int(settings.feeds_seen_retention_days * 86_400_000)
    compacted = {
        settings.topic_watch: {"cleanup.policy": "compact"},
        settings.topic_feeds: {"cleanup.policy": "compact"},
        settings.topic_feeds_seen: {
            "cleanup.policy": "compact,delete",
            "retention.ms": str(retention_ms),
        },
    }
    specs += [
        NewTopic(
            name,
            settings.partitions if name == settings.topic_feeds else 1,
            settings.replication_factor,
            topic_configs=configs,
        )
        for name, configs in compacted.items()
    ]
    created = []
    with _reachable(settings):
        admin = KafkaAdminClient(**connection_options(settings))
        try:
            existing = set(admin.list_topics())
            for spec in specs:
                if spec.name in existing:
                    continue
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics([spec])
                    created.append(spec.name)
        finally:
            admin.close()
    return created


class Producer:
    """A kafka-python producer with the settings' codec: :meth:`send` blocks until the broker
    has acknowledged every record."""

    def __init__(self, settings: Settings) -> None:
        self._timeout = settings.push_timeout_s
        with _reachable(settings):
            self._producer = KafkaProducer(
                **connection_options(settings),
                acks="all",
                compression_type=settings.compression_type,
                max_request_size=max(settings.max_message_bytes * 2, 1_048_576),
            )

    def send(self, records: Iterable[tuple[str, bytes | None, bytes | None]]) -> int:
        """Produce each ``(topic, key, value)`` (a None value is a tombstone), wait for the
        acknowledgement of every one, and return how many were sent."""
        try:
            futures = [self._producer.send(topic, value, key) for topic, key, value in records]
            self._producer.flush()
            for future in futures:
                future.get(timeout=self._timeout)
        except KafkaError as exc:
            raise BrokerUnavailable(f"the broker did not accept the records: {exc}") from exc
        return len(futures)

    def close(self) -> None:
        self._producer.close()


def push(
    settings: Settings,
    values: Iterable[bytes | None],
    topic: str | None = None,
    keys: Iterable[bytes] | None = None,
) -> int:
    """Produce each value (with the key of the same position in ``keys``, if given; None is a
    tombstone) to the ingest topic (or ``topic``), wait for the broker's acknowledgement of
    every one, and return how many were sent."""
    name = topic or settings.topic_raw
    producer = Producer(settings)
    try:
        if keys is None:
            return producer.send((name, None, value) for value in values)
        return producer.send((name, k, v) for v, k in zip(values, keys, strict=True))
    finally:
        producer.close()


def tail(
    settings: Settings,
    topics: Sequence[str],
    *,
    from_beginning: bool = False,
    max_records: int | None = None,
    idle_timeout: float | None = None,
) -> Iterator[bytes]:
    """Yield the values of ``topics`` as they arrive, reading every partition without a consumer
    group (nothing is committed). Stops after ``max_records``, or after ``idle_timeout`` seconds
    without a new record; runs forever otherwise."""
    with _reachable(settings):
        consumer = KafkaConsumer(**connection_options(settings), enable_auto_commit=False)
    try:
        partitions = [
            tp for topic in topics for tp in _wait_for_partitions(consumer, topic, idle_timeout)
        ]
        if not partitions:
            return
        consumer.assign(partitions)
        if from_beginning:
            consumer.seek_to_beginning(*partitions)
        else:
            consumer.seek_to_end(*partitions)
        seen = 0
        last = time.monotonic()
        while max_records is None or seen < max_records:
            batches = consumer.poll(timeout_ms=200)
            records = sorted(
                (r for batch in batches.values() for r in batch), key=lambda r: r.timestamp
            )
            for record in records:
                yield record.value
                seen += 1
                last = time.monotonic()
                if max_records is not None and seen >= max_records:
                    return
            if idle_timeout is not None and time.monotonic() - last > idle_timeout:
                return
    finally:
        consumer.close()


def read_since(settings: Settings, topic: str, since_ms: int, timeout: float = 10.0) -> list[bytes]:
    """The values of ``topic`` written since ``since_ms`` (epoch milliseconds) up to its end as
    it is now, without a consumer group. A broker that cannot look offsets up by time (the
    embedded one answers with the first offset) yields older records too; gives up on a
    partition that sends nothing for ``timeout`` seconds."""
    with _reachable(settings):
        consumer = KafkaConsumer(**connection_options(settings), enable_auto_commit=False)
    try:
        partitions = _wait_for_partitions(consumer, topic, timeout)
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        starts = consumer.offsets_for_times({tp: since_ms for tp in partitions})
        for tp in partitions:
            start = starts.get(tp)
            consumer.seek(tp, ends[tp] if start is None else min(start.offset, ends[tp]))
        values: list[bytes] = []
        last = time.monotonic()
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=200).values():
                values.extend(record.value for record in batch)
                last = time.monotonic()
            if time.monotonic() - last > timeout:
                break
        return values
    finally:
        consumer.close()


def _wait_for_partitions(
    consumer: KafkaConsumer, topic: str, timeout: float | None
) -> list[TopicPartition]:
    """The topic's partitions, waiting (up to ``timeout``) for it to be created."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        ids = consumer.partitions_for_topic(topic)
        if ids:
            return [TopicPartition(topic, p) for p in sorted(ids)]
        if deadline is not None and time.monotonic() > deadline:
            return []
        time.sleep(0.5)
