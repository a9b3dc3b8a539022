"""The enrich agent: takes batches from the ingest topic, runs the enricher, publishes each
outcome to the enriched or dead-letter topic, and lets Faust commit the batch's offsets only
after the broker has acknowledged every output (at-least-once)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust

from pipeline.enrich import Enricher
from pipeline.metrics import Metrics
from pipeline.models import DeadLetter, Outcome, RawRecord, Reason, encode
from pipeline.settings import Settings
from pipeline.stream.app import Topics

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 30.0


def to_record(event: Any) -> RawRecord:
    """The ``RawRecord`` of a Faust event read with the raw serializer."""
    message = event.message
    value = message.value if isinstance(message.value, bytes) else b""
    return RawRecord(
        value=value,
        key=message.key if isinstance(message.key, bytes) else None,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp=datetime.fromtimestamp(message.timestamp, UTC) if message.timestamp else None,
    )


def register_agents(
    app: faust.App,
    topics: Topics,
    enricher: Enricher,
    metrics: Metrics,
    settings: Settings,
) -> None:
    """Attach the enrich agent and the housekeeping timer to ``app``."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enrich")

    @app.agent(topics.raw, name="enrich")
    async def enrich(stream: Any) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        async for events in stream.take_events(
            settings.batch_size, within=settings.batch_timeout_s
        ):
            started = time.perf_counter()
            records = [to_record(event) for event in events]
            metrics.consumed.labels(topic=settings.topic_raw).inc(len(records))
            metrics.batch_size.observe(len(records))
            outcomes = await _enrich(loop, executor, enricher, records)
            await _publish(topics, outcomes, metrics)
            metrics.batch_seconds.observe(time.perf_counter() - started)
            yield None

    @app.timer(interval=settings.lag_interval_s)  # type: ignore[untyped-decorator]  # faust
    async def housekeeping() -> None:
        """Forget expired duplicate-detector entries; report table size and the lag per
        assigned ingest partition (the high watermark less the committed offset)."""
        enricher.dedup.evict(time.time())
        metrics.table_entries.labels(table="dedup").set(len(enricher.dedup))
        consumer = app.consumer
        committed = app.monitor.tp_committed_offsets
        for tp in consumer.assignment():
            if tp.topic == settings.topic_raw:
                lag = max(consumer.highwater(tp) - committed.get(tp, 0), 0)
                metrics.lag.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)


async def _enrich(
    loop: asyncio.AbstractEventLoop,
    executor: ThreadPoolExecutor,
    enricher: Enricher,
    records: Sequence[RawRecord],
) -> list[Outcome]:
    """Run the enricher: the NLP in a worker thread, the stateful part on the loop. Whatever
    goes wrong, every record comes back as an event or a dead-letter record."""
    try:
        analysis = await loop.run_in_executor(executor, enricher.analyse, records)
        return enricher.complete(analysis)
    except Exception as exc:
        log.exception("enrichment of a batch of %d failed", len(records))
        now = datetime.now(UTC)
        return [DeadLetter.of(r, Reason.INTERNAL_ERROR, repr(exc), now) for r in records]


@dataclass(frozen=True, slots=True)
class _Output:
    """One outcome addressed to its topic."""

    topic: Any
    key: bytes | None
    value: bytes
    outcome: Outcome


def _address(topics: Topics, outcome: Outcome) -> _Output:
    if isinstance(outcome, DeadLetter):
        key = outcome.original_key.encode() if outcome.original_key is not None else None
        return _Output(topics.deadletter, key, encode(outcome), outcome)
    to_duplicates = outcome.duplicate_of is not None and topics.duplicates is not None
    topic = topics.duplicates if to_duplicates else topics.enriched
    return _Output(topic, outcome.id.encode(), encode(outcome), outcome)


async def _publish(topics: Topics, outcomes: Sequence[Outcome], metrics: Metrics) -> None:
    """Send every outcome and wait until the broker acknowledged each; retry what failed with
    backoff for as long as it takes (the batch's offsets stay uncommitted meanwhile)."""
    pending = [_address(topics, outcome) for outcome in outcomes]
    backoff = 0.5
    while pending:
        results = await asyncio.gather(
            *(_send(o.topic, o.key, o.value) for o in pending), return_exceptions=True
        )
        failed = [o for o, r in zip(pending, results, strict=True) if isinstance(r, BaseException)]
        acknowledged = datetime.now(UTC)
        for output, result in zip(pending, results, strict=True):
            if not isinstance(result, BaseException):
                _count(output, metrics, acknowledged)
        if failed:
            error = next(r for r in results if isinstance(r, BaseException))
            log.warning(
                "the broker did not acknowledge %d of %d outputs (%r); retrying in %.1fs",
                len(failed),
                len(pending),
                error,
                backoff,
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)
        pending = failed


def _count(output: _Output, metrics: Metrics, acknowledged: datetime) -> None:
    metrics.published.labels(topic=output.topic.get_topic_name()).inc()
    outcome = output.outcome
    if isinstance(outcome, DeadLetter):
        metrics.deadlettered.labels(reason=outcome.reason.value).inc()
        return
    since_ingest = (acknowledged - outcome.ingested_at).total_seconds()
    metrics.latency.labels(since="ingest").observe(max(since_ingest, 0.0))
    if outcome.published_at is not None:
        since_publication = (acknowledged - outcome.published_at).total_seconds()
        metrics.latency.labels(since="publication").observe(max(since_publication, 0.0))


async def _send(topic: Any, key: bytes | None, value: bytes) -> None:
    future = await topic.send(key=key, value=value)
    await future
