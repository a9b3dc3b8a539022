"""The Faust application and its topics, configured from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faust
from aiokafka.structs import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka

from pipeline.settings import Settings
from pipeline.stream.batches import guard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topics:
    """The topics the worker reads and writes, all carrying raw bytes (we (de)serialise)."""

    raw: Any
    enriched: Any
    deadletter: Any
    duplicates: Any | None
    alerts: Any | None = None

    @property
    def outputs(self) -> list[Any]:
        """Every topic the worker publishes to."""
        outputs = (self.enriched, self.deadletter, self.duplicates, self.alerts)
        return [t for t in outputs if t is not None]


def stream_buffer_size(settings: Settings) -> int:
    """How many ingest messages may wait for the agent (Faust pauses fetching from a partition
    at 80 % of it): ``MEDIAMON_STREAM_BUFFER_SIZE``, else four batches and at least 16. Faust's
    default, 4096, could hold 16 GiB of 4 MiB messages; a few batches keep the agent busy and
    bound memory to a few batches' bytes plus the fetcher's prefetch."""
    if settings.stream_buffer_size is not None:
        return settings.stream_buffer_size
    return max(4 * settings.batch_size, 16)


def consumer_class(fetch_wait_s: float) -> type[faust_aiokafka.Consumer]:
    """Faust's Kafka consumer, with ``fetch_wait_s`` as the longest the broker may hold a fetch
    that finds nothing new (Faust fixes it at 1.5 s; the embedded broker answers such a fetch
    late when it waits that long: records waited up to 0.6 s before the worker saw them), and
    that reads never-committed partitions from their beginning after Faust seeks back to the
    committed offsets (:func:`rewind_uncommitted`)."""
    wait_ms = round(fetch_wait_s * 1000)

    class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_max_wait_ms = wait_ms  # read when it starts its fetcher
            return consumer

    class Consumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
            return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

        async def perform_seek(self) -> None:
            await super().perform_seek()
            await rewind_uncommitted(self)

    return Consumer


async def rewind_uncommitted(consumer: Any) -> None:
    """Seek the stream partitions this group never committed back to their first offset.

    Faust seeks back to the committed offsets after it discards records fetched while its flow
    was stopped (a worker starting or rebalancing), but a partition with no committed offset is
    left where the fetcher stood: a record fetched and discarded there was never processed, and
    once a later one was committed it was lost for good. Seeking such a partition to its
    beginning is what the ``earliest`` reset policy means; what was processed but not yet
    committed is processed again (at least once), as on a partition Faust seeks back to its
    commit. Changelog partitions are the tables' own business and are left alone."""
    changelogs = set(consumer.app.tables.changelog_topics)
    streams = {name for channel in consumer.app.topics for name in channel.topics} - changelogs
    never = sorted(
        tp
        for tp in consumer.assignment()
        if tp.topic in streams and consumer._committed_offset.get(tp) is None
    )
    if never:
        log.info(
            "never committed, read from their beginning: %s",
            ", ".join(f"{tp.topic}[{tp.partition}]" for tp in never),
        )
        await consumer._thread.seek_to_beginning(*(TopicPartition(*tp) for tp in never))
        for tp in never:
            consumer._read_offset[tp] = None


def create_app(settings: Settings) -> faust.App:
    """A Faust app for ``settings``: no web server (metrics have their own port), in-memory
    table store rebuilt from changelogs, short group timeouts from the settings, a small
    stream buffer (backpressure: a slow agent or broker pauses fetching), outputs compressed
    with ``MEDIAMON_COMPRESSION``, undecodable ingest batches read as stand-ins
    (:mod:`pipeline.stream.batches`)."""
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=settings.create_topics,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_commit_interval=settings.commit_interval_s,
        processing_guarantee=settings.processing_guarantee,
        consumer_auto_offset_reset="earliest",
        consumer_max_fetch_size=settings.max_message_bytes * 4,
        stream_buffer_maxsize=stream_buffer_size(settings),
        producer_acks=-1,
        producer_max_request_size=settings.max_message_bytes * 2,
        producer_max_batch_size=settings.producer_batch_bytes,
        producer_compression_type=settings.compression_type,
        broker_credentials=broker_credentials(settings),
    )
    # this app's transport only (the class attribute stays Faust's)
    app.transport.Consumer = consumer_class(settings.fetch_wait_s)  # type: ignore[misc]
    guard([settings.topic_raw])  # an undecodable batch becomes a dead letter, not a crash
    return app


def broker_credentials(settings: Settings) -> faust.auth.Credentials | None:
    """Faust's form of the SASL/TLS settings (the command line's clients get the same)."""
    if settings.uses_sasl:
        password = settings.sasl_password
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=password.get_secret_value() if password else None,
            ssl_context=settings.ssl_context(),
            mechanism=settings.sasl_mechanism,
        )
    if settings.uses_tls:
        return faust.SSLCredentials(settings.ssl_context())
    return None


def raw_topic(app: faust.App, name: str, settings: Settings) -> Any:
    """The topic ``name`` on ``app``, carrying raw bytes (we (de)serialise)."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
    )


def create_topics(app: faust.App, settings: Settings) -> Topics:
    """Declare the ingest, enriched, dead-letter (duplicates) and alerts topics on ``app``."""

    def topic(name: str) -> Any:
        return raw_topic(app, name, settings)

    return Topics(
        raw=topic(settings.topic_raw),
        enriched=topic(settings.topic_enriched),
        deadletter=topic(settings.topic_deadletter),
        duplicates=topic(settings.topic_duplicates) if settings.topic_duplicates else None,
        alerts=topic(settings.topic_alerts),
    )


def create_dedup_table(
    app: faust.App, settings: Settings, on_change: Callable[[str, Any], None]
) -> Any:
    """The duplicate detector's journal: a global table (every worker reads every partition of
    it, as a copy may land on any partition), backed by a compacted changelog topic so that a
    restarted worker recovers what it had seen. ``on_change(key, value)`` is called for every
    changelog record the table reads (another worker's write, one of this worker's own coming
    back, or one recovered at start; ``value`` None for a delete): the detector keeps its
    index in memory and never reads the table, whose copy lags behind the changelog."""

    async def changed(event: Any) -> None:
        on_change(event.key, event.value)

    return app.GlobalTable(
        "dedup",
        default=None,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
        partitions=settings.partitions,
        use_partitioner=True,  # written from any partition's events: key decides the partition
        on_changelog_event=changed,
    )
