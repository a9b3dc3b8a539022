"""The enrich agent: takes batches from the ingest topic, runs the enricher, publishes each
outcome to the enriched or dead-letter topic, and lets Faust commit the batch's offsets only
after the broker has acknowledged every output (at-least-once).

Faust's ``take_events`` acks a batch's events when the agent asks for the next batch, and
also in a ``finally:`` when its generator is closed, which happens when the agent is
cancelled or raises in the middle of a batch. An ack there would let Faust commit offsets
whose outputs were never sent. So the agent holds a reference on each message of the batch
in hand (``Message.incref``) and releases it (the ack that makes the offset committable)
only once every output is acknowledged: the generator's ack alone never reaches zero.

The agent must also never crash and go on: Faust's supervisor would restart it on later
messages, and Faust commits past a gap at the head of the acked offsets (its check skips a
committed offset of 0 or None and one-offset gaps). So a batch that fails is retried until
it goes through; only when the worker is stopping does a batch give up after a grace period,
and then the agent takes no further batch, leaving it and everything after uncommitted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

import faust

from pipeline.enrich import Enricher
from pipeline.metrics import Metrics
from pipeline.models import DeadLetter, Outcome, RawRecord, Reason, encode
from pipeline.settings import Settings
from pipeline.stream.app import Topics
from pipeline.stream.batches import undecodable

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 30.0
SHUTDOWN_GRACE_S = 10.0
"""While the worker stops, how long a batch may wait for the broker before it is given up
(left uncommitted, so it is processed again after the restart)."""
_WAIT_SLICE_S = 1.0
_WAIT_LOG_S = 10.0


class BatchAbandoned(Exception):
    """The worker is stopping and a batch could not be completed within the grace period."""


class Stopping:
    """Whether the app is stopping, and whether its grace period for a batch is over."""

    def __init__(self, app: faust.App, grace_s: float) -> None:
        self._app = app
        self._grace_s = grace_s
        self._since: float | None = None

    @property
    def active(self) -> bool:
        return bool(self._app.should_stop)

    def expired(self) -> bool:
        if not self.active:
            return False
        now = time.monotonic()
        if self._since is None:
            self._since = now
        return now - self._since >= self._grace_s


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of ingest messages sorted by what becomes of them: articles for the enricher,
    stand-ins of undecodable record batches (with the error) for the dead-letter topic, and
    tombstones (a null value: a deletion marker, not an article), skipped and counted."""

    articles: list[RawRecord]
    undecodable: list[tuple[RawRecord, str]]
    tombstones: list[RawRecord]

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
    stopping = Stopping(app, SHUTDOWN_GRACE_S)

    @app.agent(topics.raw, name="enrich")
    async def enrich(stream: Any) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        async for events in stream.take_events(
            settings.batch_size, within=settings.batch_timeout_s
        ):
            hold(events)
            batch = Batch.of(events)
            records = [to_record(event) for event in events]
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


async def commit_acked(consumer: Any, attempts: int = 5, timeout_s: float = 10.0) -> None:
    """Commit every offset acknowledged so far. Faust's ``commit()`` returns without committing
    when another commit is in progress, and its periodic commit often is when the worker stops
    (a commit first flushes the producer, table changelog included, which takes seconds under
    load): its own last commits at shutdown can then miss the last batches, and a graceful
    restart would process them again."""
    for _ in range(attempts):
        try:
            await asyncio.wait_for(consumer.maybe_wait_for_commit_to_finish(), timeout_s)
            acked = getattr(consumer, "_acked", None)  # Faust's offsets acked, not committed
            if acked is not None and not any(acked.values()):
                return
            if await asyncio.wait_for(consumer.commit(), timeout_s):
                log.info("committed the last acknowledged offsets before stopping")
        except Exception as exc:  # the broker may be away: the offsets stay uncommitted
            log.warning("could not commit the last acknowledged offsets: %r", exc)
            return


def hold(events: Sequence[Any]) -> None:
    """Keep the batch's offsets uncommittable whatever ``take_events`` does with its events."""
    for event in events:
        event.message.incref()


def release(events: Sequence[Any]) -> None:
    """Every output of the batch is acknowledged: its offsets may be committed."""
    for event in events:
        event.ack()


def leave_uncommitted(events: Sequence[Any]) -> None:
    """Give the batch up: mark its messages done, so that Faust's shutdown stops waiting for
    them, without acknowledging them to the consumer (their offsets are never committed)."""
    for event in events:
        event.message.acked = True


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
    backoff = 0.5
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
            await _publish(topics, records, outcomes, metrics, stopping)
        except (BatchAbandoned, asyncio.CancelledError):
            raise
        except Exception:
            log.exception(
                "the batch of %d at %s failed; trying it again in %.1fs",
                len(records),
                span(records),
                backoff,
            )
            if stopping.expired():
                raise BatchAbandoned("the batch kept failing") from None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)
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
) -> None:
    """Deliver every outcome (see ``deliver``). An output refused for its size is replaced by a
    dead-letter record of its input."""
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

    await deliver(pending, stopping, lambda o, at: _count(o, metrics, at), instead)


class Sendable(Protocol):
    """An output ready to send: its topic, key and value."""

    @property
    def topic(self) -> Any: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes: ...


_S = TypeVar("_S", bound=Sendable)


async def deliver(
    outputs: Sequence[_S],
    stopping: Stopping,
    acknowledged: Callable[[_S, datetime], None],
    instead: Callable[[_S, BaseException], _S | None] = lambda output, error: None,
) -> None:
    """Send every output and wait until the broker acknowledged each (``acknowledged`` is
    called for each, with the time); retry what failed with backoff for as long as it takes (the
    batch's offsets stay uncommitted meanwhile), or send what ``instead`` gives for it. While
    the worker stops, gives up after the grace period (``BatchAbandoned``)."""
    pending = list(outputs)
    backoff = 0.5
    while pending:
        results = await _sent(pending, stopping)
        at = datetime.now(UTC)
        failed: list[_S] = []
        for output, result in zip(pending, results, strict=True):
            if not isinstance(result, BaseException):
                acknowledged(output, at)
            else:
                failed.append(instead(output, result) or output)
        if failed:
            error = next((r for r in results if isinstance(r, BaseException)), None)
            log.warning(
                "the broker did not acknowledge %d of %d outputs (%r); retrying in %.1fs",
                len(failed),
                len(pending),
                error,
                backoff,
            )
            if stopping.expired():
                raise BatchAbandoned(f"{len(failed)} outputs unacknowledged")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)
        pending = failed


async def _sent(pending: Sequence[Sendable], stopping: Stopping) -> list[Any]:
    """Send ``pending`` and wait for the broker's answer to each (a result or an exception),
    logging while the broker keeps silent; gives up if the worker stops meanwhile."""
    gathered = asyncio.gather(
        *(_send(o.topic, o.key, o.value) for o in pending), return_exceptions=True
    )
    waited = 0.0
    next_log = _WAIT_LOG_S
    while True:
        done, _ = await asyncio.wait({gathered}, timeout=_WAIT_SLICE_S)
        if done:
            return list(gathered.result())
        waited += _WAIT_SLICE_S
        if waited >= next_log:
            log.warning(
                "still waiting for the broker to acknowledge %d outputs after %.0fs",
                len(pending),
                waited,
            )
            next_log += _WAIT_LOG_S
        if stopping.expired():  # stop waiting; the sends are not cancelled (Faust logs those)
            raise BatchAbandoned(f"{len(pending)} outputs unacknowledged after {waited:.0f}s")


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
