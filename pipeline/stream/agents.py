"""The enrich agent: takes batches from the ingest topic, runs the enricher, publishes each
outcome to the enriched or dead-letter topic, and lets Faust commit the batch's offsets only
after the broker has acknowledged every output (at-least-once)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    app: faust.App, topics: Topics, enricher: Enricher, metrics: Metrics, settings: Settings
) -> None:
    """Attach the enrich agent to ``app``."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enrich")

    @app.agent(topics.raw, name="enrich")
    async def enrich(stream: Any) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        async for events in stream.take_events(
            settings.batch_size, within=settings.batch_timeout_s
        ):
            started = time.perf_counter()
            records = [to_record(event) for event in events]
            metrics.consumed.inc(len(records))
            metrics.batch_size.observe(len(records))
            outcomes = await _enrich(loop, executor, enricher, records)
            await _publish(topics, outcomes, metrics)
            metrics.batch_seconds.observe(time.perf_counter() - started)
            yield None


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


async def _publish(topics: Topics, outcomes: Sequence[Outcome], metrics: Metrics) -> None:
    """Send every outcome and wait until the broker acknowledged each; retry what failed with
    backoff for as long as it takes (the batch's offsets stay uncommitted meanwhile)."""
    pending = [_address(topics, outcome) for outcome in outcomes]
    backoff = 0.5
    while pending:
        results = await asyncio.gather(
            *(_send(topic, key, value) for topic, key, value, _ in pending),
            return_exceptions=True,
        )
        failed = []
        for item, result in zip(pending, results, strict=True):
            if isinstance(result, BaseException):
                failed.append(item)
            else:
                metrics.published.labels(topic=item[0].get_topic_name()).inc()
                if item[3] is not None:
                    metrics.deadlettered.labels(reason=item[3]).inc()
        if failed:
            log.warning(
                "broker did not acknowledge %d of %d outputs (%r); retrying in %.1fs",
                len(failed),
                len(pending),
                next(r for r in results if isinstance(r, BaseException)),
                backoff,
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)
        pending = failed


def _address(topics: Topics, outcome: Outcome) -> tuple[Any, bytes | None, bytes, str | None]:
    """Where an outcome goes: (topic, key, value, dead-letter reason or None)."""
    if isinstance(outcome, DeadLetter):
        key = outcome.original_key.encode() if outcome.original_key is not None else None
        return topics.deadletter, key, encode(outcome), outcome.reason.value
    return topics.enriched, outcome.id.encode(), encode(outcome), None


async def _send(topic: Any, key: bytes | None, value: bytes) -> None:
    future = await topic.send(key=key, value=value)
    await future
