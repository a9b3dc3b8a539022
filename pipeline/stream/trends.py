"""Trends on the stream: counts per entity and per topic tag in tumbling windows, kept in a Faust
table, published as ``Trend`` records to the trends topic, and the top terms as metrics. The
arithmetic (windows, expiry, burst score, ranking) is in ``pipeline/stages/trends.py``.

A Faust table is partitioned like the topic that feeds it: a worker holds the rows of the
partitions it consumes. The enriched topic is keyed by article, so the counts are
repartitioned by term::

    articles.enriched ─► trend-terms agent: batches; skips duplicates, unenriched articles and
                         anything that is not an event; sums each batch per (term, window);
                         one message per partition that counts some of its terms
                      ─► <app id>-trends-terms (partition = crc32 of the term key)
                      ─► trend-counts agent: adds to the ``trends`` table (one row per term:
                         label, partition, count per kept window; changelog
                         <app id>-trends-changelog); late counts go to a metric
    timer, every MEDIAMON_TRENDS_PUBLISH_INTERVAL_S: a Trend record for every (term, window)
    whose count changed; rows of expired terms deleted; the top-N gauges refreshed

A term's row lives on exactly one partition, so exactly one worker counts it, and the union
of the workers' top N holds the global top N (Prometheus: ``topk`` over the workers).

Why a plain table with one row per term, and not Faust's windowed table: Faust expires windows
by wall clock from a cleanup timer, but only rows it wrote itself (rows recovered from the
changelog never expire), and writes a late event into an expired window without a word; a
windowed table can only be read inside stream iteration (not from the publishing timer),
the baseline would take one lookup per past window, and listing keys for the top N needs a
second key-index table with its own changelog. Here one row holds a term's kept windows, and
expiry and lateness are explicit and tested. Why our own routing, and not ``group_by``: an
article names some twenty terms and ``group_by`` forwards one message per event and key; a
batch summed per partition sends at most one message per partition.

Delivery is at-least-once, like the enriched events: the enriched records of a batch are
acknowledged once its messages are; after a crash, a batch may be counted twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
import orjson

from pipeline.metrics import Metrics
from pipeline.models import Trend, TrendKind, encode
from pipeline.rules.trends import (
    NotCounted,
    Snapshot,
    TermState,
    Windows,
    add,
    increments,
    kept,
    parse_increments,
    parse_key,
    sighting,
    snapshot,
    top,
)
from pipeline.settings import Settings
from pipeline.stream.app import raw_topic
from pipeline.stream.delivery import BatchAbandoned, Stopping, deliver, leave_uncommitted

log = logging.getLogger(__name__)

ARTICLE_OUTCOMES = ("counted", "duplicate", "not_enriched", "invalid")


@dataclass(frozen=True, slots=True)
class _Message:
    """One record to send: ``topic`` is the topic itself or a :class:`_ToPartition`."""

    topic: Any
    key: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class _ToPartition:
    """A topic whose sends all go to one partition."""

    topic: Any
    partition: int

    async def send(self, *, key: bytes | None, value: bytes) -> Any:
        return await self.topic.send(key=key, value=value, partition=self.partition)


class TopGauges:
    """The top-N gauges: ``n`` ranks per kind, each always present (an empty rank has no id
    and label, value 0), a rank's old series removed when another term takes it, so the
    series in Prometheus stay at 2 x n per kind and worker."""

    def __init__(self, metrics: Metrics, n: int) -> None:
        self._metrics = metrics
        self._n = n
        self._shown: dict[tuple[TrendKind, int], tuple[str, str]] = {}
        for kind in TrendKind:
            self.show(kind, [])
            metrics.trend_terms.labels(kind=kind.value).set(0)
            metrics.trend_late.labels(kind=kind.value)

    def show(self, kind: TrendKind, rows: Sequence[Snapshot]) -> None:
        """Rank ``rows`` (already in order) 1..n; ranks beyond them are emptied."""
        for rank in range(1, self._n + 1):
            row = rows[rank - 1] if rank <= len(rows) else None
            labels = (row.id, row.label) if row else ("", "")
            old = self._shown.get((kind, rank))
            if old is not None and old != labels:
                self._metrics.trend_top_articles.remove(kind.value, str(rank), *old)
                self._metrics.trend_top_burst.remove(kind.value, str(rank), *old)
            self._metrics.trend_top_articles.labels(kind.value, str(rank), *labels).set(
                row.count if row else 0
            )
            self._metrics.trend_top_burst.labels(kind.value, str(rank), *labels).set(
                row.burst if row else 0.0
            )
            self._shown[(kind, rank)] = labels


class Trends:
    """The state and the steps of the trends pipeline on one worker (see the module doc)."""

    def __init__(self, app: faust.App, metrics: Metrics, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.metrics = metrics
        self.windows = Windows(
            settings.trends_window_s, settings.trends_baseline_windows, settings.trends_expires_s
        )
        trends_name, terms_name = settings.trend_topics
        self.terms_name = terms_name
        self.terms = raw_topic(app, terms_name, settings)
        self.trends = raw_topic(app, trends_name, settings)
        self.table = app.Table(
            "trends",
            default=None,
            schema=faust.Schema(key_serializer="json", value_serializer="json"),
            partitions=settings.partitions,
        )
        self.changed: set[tuple[str, int]] = set()
        """(term key, window start) counted since the last publication."""
        self.gauges = TopGauges(metrics, settings.trends_top_n)
        self.stopping = Stopping(app, settings.shutdown_grace_s)
        for outcome in ARTICLE_OUTCOMES:
            metrics.trend_articles.labels(outcome=outcome)
        metrics.table_entries.labels(table="trends").set(0)

    async def forward(self, events: Sequence[Any]) -> None:
        """Route the terms of a batch of enriched records to the partitions that count them;
        returns once the broker has acknowledged every message."""
        now = time.time()
        settings = self.settings
        seen = []
        for event in events:
            try:
                record = orjson.loads(event.value)
                seen.append(
                    sighting(record, settings.trends_time, settings.trends_min_salience, now)
                )
                outcome = "counted"
            except (TypeError, ValueError):  # not JSON (orjson's error is a ValueError)
                outcome = "invalid"
            except NotCounted as exc:
                outcome = exc.reason
            self.metrics.trend_articles.labels(outcome=outcome).inc()
        messages = [
            _Message(_ToPartition(self.terms, partition), None, orjson.dumps(found))
            for partition, found in increments(seen, self.windows, self.settings.partitions).items()
        ]
        await deliver(
            messages,
            self.stopping,
            lambda message, at: None,
            backoff_max_s=self.settings.retry_backoff_max_s,
        )

    def count(self, event: Any) -> None:
        """Add one forwarded message's counts to the table (inside stream iteration: each row
        is written to the changelog partition of the message, which is the term's)."""
        now = time.time()
        partition = event.message.partition
        try:
            found = parse_increments(orjson.loads(event.value))
        except (TypeError, ValueError) as exc:  # orjson's error is a ValueError
            log.warning(
                "ignored a malformed message at %s[%s]@%s: %s",
                event.message.topic,
                partition,
                event.message.offset,
                exc,
            )
            return
        for increment in found:
            key, _, start, number = increment
            state = add(self._state(key), increment, partition, self.windows, now)
            if state is None:
                self.metrics.trend_late.labels(kind=parse_key(key)[0].value).inc(number)
                continue
            self.table[key] = state.to_json()
            self.changed.add((key, start))

    def _state(self, key: str) -> TermState | None:
        value = self.table.get(key)
        if value is None:
            return None
        try:
            return TermState.from_json(value)
        except ValueError:
            log.warning("reset the malformed trend row of %r: %r", key, value)
            return None

    async def publish(self) -> None:
        """Publish the changed (term, window) counts; delete expired rows and forget rows of
        partitions this worker no longer holds; refresh the top-N metrics."""
        now = time.time()
        actives, held = self._partitions()
        current = self.windows.start(now)
        rows: dict[TrendKind, list[Snapshot]] = {kind: [] for kind in TrendKind}
        expired: list[tuple[str, int]] = []
        forgotten: list[str] = []
        malformed = 0
        for key, value in self.table.items():
            try:
                state = kept(TermState.from_json(value), self.windows, now)
            except ValueError:  # replaced by the next count of the term (see ``_state``)
                malformed += 1
                continue
            if state.partition not in held:
                forgotten.append(key)
            elif state.partition in actives:
                if not state.counts:
                    expired.append((key, state.partition))
                elif state.counts.get(current):
                    row = snapshot(key, state, current, self.windows, now)
                    rows[row.kind].append(row)
        for kind, found in rows.items():
            self.gauges.show(kind, top(found, self.settings.trends_top_n))
            self.metrics.trend_terms.labels(kind=kind.value).set(len(found))
        for key, partition in expired:
            self.table.send_changelog(partition, key, None, value_serializer="raw")
            self.table.data.pop(key, None)
        for key in forgotten:  # no tombstone: the row is the holder's
            self.table.data.pop(key, None)
        if malformed:
            log.warning("%d malformed rows in the trend table were left out", malformed)
        self.metrics.table_entries.labels(table="trends").set(len(self.table))
        await self._send(list(self._records(actives, now)))

    def _partitions(self) -> tuple[set[int], set[int]]:
        """The partitions of the table this worker counts, and those it holds a copy of."""
        assignor = self.app.assignor
        actives = {
            tp.partition for tp in assignor.assigned_actives() if tp.topic == self.terms_name
        }
        changelog = self.table.changelog_topic.get_topic_name()
        standbys = {tp.partition for tp in assignor.assigned_standbys() if tp.topic == changelog}
        return actives, actives | standbys

    def _records(self, actives: set[int], now: float) -> Iterable[tuple[tuple[str, int], Trend]]:
        """A record for each changed (term, window) that this worker counts."""
        changed, self.changed = self.changed, set()
        updated = datetime.fromtimestamp(now, UTC)
        size = self.windows.size
        for key, start in sorted(changed):
            state = self._state(key)
            if state is None or state.partition not in actives or start not in state.counts:
                continue
            row = snapshot(key, state, start, self.windows, now)
            yield (
                (key, start),
                Trend(
                    kind=row.kind,
                    id=row.id,
                    label=row.label,
                    window_start=datetime.fromtimestamp(start, UTC),
                    window_end=datetime.fromtimestamp(start + size, UTC),
                    count=row.count,
                    baseline_mean=row.baseline_mean,
                    burst=row.burst,
                    updated_at=updated,
                ),
            )

    async def _send(self, records: list[tuple[tuple[str, int], Trend]]) -> None:
        """Publish ``records``, one send after the other: each waits only for its partition's
        previous batch, whereas hundreds of sends started at once would all be woken by every
        batch sent (quadratic with the one-record batches of the embedded broker). A record
        the broker refuses is published again at the next tick."""
        sent = []
        for i, (changed, record) in enumerate(records):
            key = f"{record.kind.value}:{record.id}".encode()
            try:
                sent.append((changed, await self.trends.send(key=key, value=encode(record))))
            except BaseException:  # stopping, or the producer failed: the rest next time
                self.changed.update(rest for rest, _ in records[i:])
                raise
        failed = 0
        for changed, future in sent:
            try:
                await future
            except Exception:  # the broker's answer; the count is still in the table
                self.changed.add(changed)
                failed += 1
        if failed:
            log.warning("%d of %d trend records not published; again next time", failed, len(sent))


def register_trends(app: faust.App, enriched: Any, metrics: Metrics, settings: Settings) -> None:
    """Attach the trend agents and their timer to ``app`` (nothing when trends are off)."""
    if not settings.trends_enabled:
        return
    trends = Trends(app, metrics, settings)

    @app.agent(enriched, name="trend-terms")
    async def trend_terms(stream: Any) -> None:
        # noack_take: nothing is acknowledged until we say so, after the broker took the batch
        async for events in stream.noack_take(settings.batch_size, within=settings.batch_timeout_s):
            try:
                await trends.forward(events)
            except BatchAbandoned as exc:
                leave_uncommitted(events)
                log.warning("stopping: left %d enriched records uncounted (%s)", len(events), exc)
                return
            except Exception:  # a bug must not stop the worker
                log.exception("%d enriched records could not be counted", len(events))
            for event in events:
                event.ack()

    @app.agent(trends.terms, name="trend-counts")
    async def trend_counts(stream: Any) -> None:
        async for event in stream.events():
            try:
                trends.count(event)
            except Exception:  # a bug must not stop the worker; the message is not counted
                log.exception("counting %s failed", event.message)

    @app.timer(interval=settings.trends_publish_interval_s)  # type: ignore[untyped-decorator]
    async def publish_trends() -> None:
        try:
            await trends.publish()
        except Exception:  # publishing must never stop the worker
            log.exception("publishing trends failed")
