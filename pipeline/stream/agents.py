"""The enrich agent: takes batches from the ingest topic, sorts each (:class:`Batch`), runs
the enricher on its articles and publishes each outcome to the enriched, duplicates or
dead-letter topic, retrying a failing batch until it goes through; its offsets are committed
only once the broker has acknowledged every output (:mod:`pipeline.stream.delivery`). Also the
housekeeping timer (duplicate-detector expiry, table size and consumer lag)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust

from pipeline.backoff import Backoff
from pipeline.enrich import Enricher
from pipeline.metrics import Metrics
from pipeline.models import DeadLetter, Outcome, RawRecord, Reason, encode
from pipeline.settings import Settings
from pipeline.stream.app import Topics
from pipeline.stream.batches import undecodable
from pipeline.stream.delivery import (
    BatchAbandoned,
    Stopping,
    commit_acked,
    deliver,
    hold,
    leave_uncommitted,
    release,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of ingest messages sorted by what becomes of them: articles for the enricher,
    stand-ins of undecodable record batches (with the error) for the dead-letter topic, and
    tombstones (a null value: a deletion marker, not an article), skipped and counted."""

    articles: list[RawRecord]
    undecodable: list[tuple[RawRecord, str]]
    tombstones: list[RawRecord]

    @property
    def records(self) -> list[RawRecord]:
        """Every record of the batch, whatever becomes of it."""
        return self.articles + [record for record, _ in self.undecodable] + self.tombstones

    @classmethod
    def of(cls, events: Sequence[Any]) -> Batch:
        batch = cls([], [], [])
        for event in events:
            record = to_record(event)
            error = undecodable(event.message.headers)
            if error is not None:
                batch.undecodable.append((record, error))
            elif event.message.value is None:
                batch.tombstones.append(record)
            else:
                batch.articles.append(record)
        return batch


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
        timestamp=_timestamp(message.timestamp),
    )


def _timestamp(seconds: object) -> datetime | None:
    """A message timestamp as a UTC time; None when missing or unrepresentable (producers set
    it, so it may be anything, such as year 10000: that must not fail the batch)."""
    if not isinstance(seconds, int | float) or not seconds or seconds < 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def register_agents(
    app: faust.App,
    topics: Topics,
    enricher: Enricher,
    metrics: Metrics,
    settings: Settings,
) -> None:
    """Attach the enrich agent and the housekeeping timer to ``app``."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enrich")
    stopping = Stopping(app, settings.shutdown_grace_s)

    @app.agent(topics.raw, name="enrich")
    async def enrich(stream: Any) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        async for events in stream.take_events(
            settings.batch_size, within=settings.batch_timeout_s
        ):
            hold(events)
            batch = Batch.of(events)
            records = batch.records
            metrics.consumed.labels(topic=settings.topic_raw).inc(len(records))
            metrics.batch_size.observe(len(records))
            if batch.tombstones:
                metrics.skipped.labels(reason="tombstone").inc(len(batch.tombstones))
                log.info(
                    "skipped %d tombstones at %s", len(batch.tombstones), span(batch.tombstones)
                )
            try:
                await _process(loop, executor, enricher, topics, metrics, batch, stopping)
            except BatchAbandoned as exc:
                leave_uncommitted(events)
                log.warning(
                    "stopping: gave up the batch of %d at %s (%s); it stays uncommitted and"
                    " is processed again after the restart",
                    len(records),
                    span(records),
                    exc,
                )
                return  # take nothing more: no later offset may be committed past this batch
            release(events)
            yield None

    async def commit_on_shutdown(sender: Any, /, *args: Any, **kwargs: Any) -> None:
        await commit_acked(app.consumer)

    # sent once the streams are empty (every batch in hand released or given up), before the
    # consumer and producer stop
    app.on_before_shutdown.connect(commit_on_shutdown)

    reported: set[tuple[str, str]] = set()

    @app.timer(interval=settings.lag_interval_s)  # type: ignore[untyped-decorator]  # faust
    async def housekeeping() -> None:
        """Forget expired duplicate-detector entries; report table size and the lag per
        assigned ingest partition (the high watermark less the committed offset)."""
        try:
            enricher.dedup.evict(time.time())
            metrics.table_entries.labels(table="dedup").set(len(enricher.dedup))
            consumer = app.consumer
            lags = partition_lags(
                [tp for tp in consumer.assignment() if tp.topic == settings.topic_raw],
                consumer.highwater,
                app.monitor.tp_committed_offsets,
            )
            for gone in reported - lags.keys():  # revoked: its lag is another worker's now
                metrics.lag.remove(*gone)
            for labels, lag in lags.items():
                metrics.lag.labels(*labels).set(lag)
            reported.clear()
            reported.update(lags)
        except Exception:  # a report must never stop the worker
            log.exception("housekeeping failed")


def partition_lags(
    partitions: Iterable[Any],
    highwater: Callable[[Any], int | None],
    committed: Mapping[Any, int],
) -> dict[tuple[str, str], int]:
    """Lag per (topic, partition) label pair: the high watermark less the committed offset.
    A partition not fetched yet (no high watermark) is left out rather than guessed."""
    lags = {}
    for tp in partitions:
        end = highwater(tp)
        if end is not None:
            lags[(tp.topic, str(tp.partition))] = max(end - committed.get(tp, 0), 0)
    return lags


def span(records: Sequence[RawRecord]) -> str:
    """Where a batch came from, for log lines: ``topic[partition]@first-last`` per partition."""
    offsets: dict[tuple[str | None, int | None], list[int]] = {}
    for record in records:
        if record.offset is not None:
            offsets.setdefault((record.topic, record.partition), []).append(record.offset)
    return ", ".join(f"{t}[{p}]@{min(o)}-{max(o)}" for (t, p), o in offsets.items()) or "?"


async def _process(
    loop: asyncio.AbstractEventLoop,
    executor: ThreadPoolExecutor,
    enricher: Enricher,
    topics: Topics,
    metrics: Metrics,
    batch: Batch,
    stopping: Stopping,
) -> None:
    """Enrich and publish one batch until every output is acknowledged (the articles' events
    or dead letters, a dead letter for each undecodable record batch). Anything unexpected
    is logged and the batch is tried again (an exception escaping the agent would let Faust
    skip the batch); raises only ``BatchAbandoned`` (stopping) and ``CancelledError``."""
    records = batch.articles + [record for record, _ in batch.undecodable]
    backoff = Backoff.of(enricher.settings, 0.5)
    while True:
        started = time.perf_counter()
        try:
            outcomes = (
                await _enrich(loop, executor, enricher, batch.articles) if batch.articles else []
            )
            now = datetime.now(UTC)
            outcomes += [
                DeadLetter.of(
                    record,
                    Reason.UNDECODABLE_BATCH,
                    f"the record batch could not be decoded: {error}",
                    now,
                )
                for record, error in batch.undecodable
            ]
            await _publish(
                topics, records, outcomes, metrics, stopping, enricher.settings.retry_backoff_max_s
            )
        except (BatchAbandoned, asyncio.CancelledError):
            raise
        except Exception:
            delay = backoff.next()
            log.exception(
                "the batch of %d at %s failed; trying it again in %.1fs",
                len(records),
                span(records),
                delay,
            )
            if stopping.expired():
                raise BatchAbandoned("the batch kept failing") from None
            await asyncio.sleep(delay)
            continue
        metrics.batch_seconds.observe(time.perf_counter() - started)
        return


def behind(records: Sequence[RawRecord], batch_size: int, after_s: float, now: float) -> bool:
    """Whether a batch shows the worker behind its input: the batch is full (more was
    waiting), or its oldest record's timestamp is ``after_s`` or more before ``now``."""
    if len(records) >= batch_size:
        return True
    stamps = [r.timestamp.timestamp() for r in records if r.timestamp is not None]
    return bool(stamps) and now - min(stamps) >= after_s


async def _enrich(
    loop: asyncio.AbstractEventLoop,
    executor: ThreadPoolExecutor,
    enricher: Enricher,
    records: Sequence[RawRecord],
) -> list[Outcome]:
    """Run the enricher: the NLP in a worker thread, the stateful part on the loop (its stance
    stage takes the backlog model when the worker is :func:`behind`). Whatever goes wrong,
    every record comes back as an event or a dead-letter record."""
    settings = enricher.settings
    late = behind(records, settings.batch_size, settings.stance_backlog_after_s, time.time())
    try:
        analysis = await loop.run_in_executor(
            executor, partial(enricher.analyse, records, behind=late)
        )
        return enricher.complete(analysis)
    except Exception as exc:
        log.exception("enrichment of a batch of %d failed", len(records))
        now = datetime.now(UTC)
        return [DeadLetter.of(r, Reason.INTERNAL_ERROR, repr(exc), now) for r in records]


@dataclass(frozen=True, slots=True)
class _Output:
    """One outcome addressed to its topic, with the record it came from when known."""

    topic: Any
    key: bytes | None
    value: bytes
    outcome: Outcome
    record: RawRecord | None


def _address(topics: Topics, outcome: Outcome, record: RawRecord | None) -> _Output:
    """The output for ``outcome``; one that cannot be encoded is dead-lettered instead."""
    try:
        value = encode(outcome)
    except Exception as exc:
        if record is None:
            raise
        log.exception("could not encode the outcome of %s; dead-lettering it", span([record]))
        return _dead_letter(topics, record, f"the outcome could not be encoded: {exc!r}")
    if isinstance(outcome, DeadLetter):
        return _Output(topics.deadletter, _letter_key(outcome), value, outcome, record)
    to_duplicates = outcome.duplicate_of is not None and topics.duplicates is not None
    topic = topics.duplicates if to_duplicates else topics.enriched
    return _Output(topic, outcome.id.encode(), value, outcome, record)


def _letter_key(letter: DeadLetter) -> bytes | None:
    return letter.original_key.encode() if letter.original_key is not None else None


def _dead_letter(topics: Topics, record: RawRecord, message: str) -> _Output:
    """An internal-error dead letter for ``record`` (its bytes can always be encoded)."""
    letter = DeadLetter.of(record, Reason.INTERNAL_ERROR, message, datetime.now(UTC))
    return _Output(topics.deadletter, _letter_key(letter), encode(letter), letter, record)


def _smaller(topics: Topics, output: _Output, error: BaseException) -> _Output | None:
    """What to publish instead of an output refused for its size: a dead letter of its input,
    or, for a dead letter (whose original is too large itself), one without the original that
    says where it is; None when nothing smaller can be made."""
    record = output.record
    if record is None:
        return None
    if not isinstance(output.outcome, DeadLetter):
        return _dead_letter(topics, record, f"the enriched event was refused: {error!r}")
    if not output.outcome.original:
        return None
    message = (
        f"{output.outcome.reason.value}: {output.outcome.message}; this {len(output.value)}-byte"
        f" dead letter was refused ({error!r}), so the original ({len(record.value)} bytes)"
        f" is left out: it is at {span([record])}"
    )
    return _dead_letter(topics, replace(record, value=b""), message)


def _too_large(error: BaseException) -> bool:
    """Whether the broker or producer refused an output for its size (retrying won't help)."""
    seen: BaseException | None = error
    while seen is not None:
        if type(seen).__name__ in ("MessageSizeTooLargeError", "RecordListTooLargeError"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _publish(
    topics: Topics,
    records: Sequence[RawRecord],
    outcomes: Sequence[Outcome],
    metrics: Metrics,
    stopping: Stopping,
    backoff_max_s: float,
) -> None:
    """Deliver every outcome (see ``deliver``, retrying with backoff up to ``backoff_max_s``).
    An output refused for its size is replaced by a dead-letter record of its input."""
    by_position = len(records) == len(outcomes)
    pending = [
        _address(topics, outcome, records[i] if by_position else None)
        for i, outcome in enumerate(outcomes)
    ]

    def instead(output: _Output, error: BaseException) -> _Output | None:
        smaller = _smaller(topics, output, error) if _too_large(error) else None
        if smaller is not None:
            log.error(
                "the broker refused the %d-byte output of %s (%r); publishing a %d-byte"
                " dead letter instead",
                len(output.value),
                span([output.record] if output.record else []),
                error,
                len(smaller.value),
            )
        return smaller

    await deliver(
        pending,
        stopping,
        lambda o, at: _count(o, metrics, at),
        instead,
        backoff_max_s=backoff_max_s,
    )


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
