"""The alert agent and the watch-topic reader of the worker.

Every worker must apply every rule, so the watch topic is not read in the worker's consumer
group (which would share its partitions out) but by a reader of its own
(``pipeline.transport.compacted``, the code ``mediamon watch list`` runs) that assigns
every partition, reads from the beginning and keeps following, in a thread: rules added or
removed take effect within a second, without a restart. A reader rather than a Faust global
table because the topic is also written by hand: a record that is not a valid rule must be
logged and skipped, not stop a table's recovery; and because the alert agent must wait until
the topic has been read to its end (a worker matching before it knows its rules would miss
alerts), which the reader tells.

The alert agent consumes the enriched topic in the worker's consumer group (each event is
matched by one worker), matches each event against the rules (``pipeline.rules.watch``) and
publishes an alert per match to the alerts topic, keyed by article id. Delivery is the enrich
agent's (``pipeline.stream.delivery``): the batch's messages are held and released for commit
only once the broker has acknowledged every alert, so a crash never loses an alert (it may
repeat one: consumers deduplicate on rule id and article id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
from pydantic import ValidationError

from pipeline.keyed import describe
from pipeline.metrics import Metrics
from pipeline.models import Alert, EnrichedEvent, WatchRule, encode
from pipeline.rules.watch import WatchRules, alerts
from pipeline.settings import Settings
from pipeline.stream.agents import span, to_record
from pipeline.stream.app import Topics
from pipeline.stream.delivery import (
    BatchAbandoned,
    Stopping,
    deliver,
    hold,
    leave_uncommitted,
    release,
)
from pipeline.transport.compacted import TopicFollower
from pipeline.transport.watch import file_rules

log = logging.getLogger(__name__)


class RuleFollower(TopicFollower):
    """Keeps ``rules`` up to date with the watch topic (``pipeline.transport.compacted``)."""

    def __init__(self, settings: Settings, rules: WatchRules) -> None:
        super().__init__(settings, settings.topic_watch, rules.apply, "watch rules")

    async def wait_ready(self, stopping: Stopping) -> None:
        """Return once the rules are read; give up (``BatchAbandoned``) if the worker stops
        meanwhile."""
        while not self.ready.is_set():
            if stopping.expired():
                raise BatchAbandoned("the watch rules were never read")
            await asyncio.sleep(0.1)


@dataclass(frozen=True, slots=True)
class _AlertOutput:
    topic: Any
    key: bytes
    value: bytes
    alert: Alert


def _outputs(topic: Any, events: Sequence[Any], rules: Sequence[WatchRule]) -> list[_AlertOutput]:
    """The alerts of a batch of enriched-topic events. An event that cannot be read is logged
    and skipped: it is not an article (the enrich agent wrote what is on that topic)."""
    if not rules:
        return []
    outputs = []
    now = datetime.now(UTC)
    for event in events:
        record = to_record(event)
        try:
            enriched = EnrichedEvent.model_validate_json(record.value)
            found = alerts(rules, enriched, now)
        except ValidationError as exc:
            log.error(
                "%s is not an enriched event; no alerts for it: %s",
                span([record]),
                describe(exc),
            )
            continue
        except Exception:  # a bug must not stop the agent (Faust would skip the batch)
            log.exception("matching the rules on %s failed; no alerts for it", span([record]))
            continue
        key = enriched.id.encode()
        outputs += [_AlertOutput(topic, key, encode(alert), alert) for alert in found]
    return outputs


def register_watch(app: faust.App, topics: Topics, metrics: Metrics, settings: Settings) -> None:
    """Attach the alert agent and the watch-topic reader to ``app``."""
    rules = WatchRules(file_rules(settings), on_change=metrics.watch_rules.set)
    follower = RuleFollower(settings, rules)
    stopping = Stopping(app, settings.shutdown_grace_s)
    published = metrics.published.labels(topic=settings.topic_alerts)

    def acknowledged(output: _AlertOutput, at: datetime) -> None:
        published.inc()
        metrics.alerts.inc()

    @app.task  # type: ignore[untyped-decorator]  # faust
    async def follow_watch_topic() -> None:
        follower.start()

    async def stop_following(sender: Any, /, *args: Any, **kwargs: Any) -> None:
        await asyncio.to_thread(follower.stop)

    app.on_before_shutdown.connect(stop_following)

    @app.agent(topics.enriched, name="watch")
    async def watch(stream: Any) -> AsyncIterator[None]:
        async for events in stream.take_events(
            settings.batch_size, within=settings.batch_timeout_s
        ):
            hold(events)
            try:
                await follower.wait_ready(stopping)
                outputs = _outputs(topics.alerts, events, rules.active)
                await deliver(
                    outputs,
                    stopping,
                    acknowledged,
                    backoff_max_s=settings.retry_backoff_max_s,
                )
            except BatchAbandoned as exc:
                leave_uncommitted(events)
                log.warning("stopping: %d enriched events left unmatched (%s)", len(events), exc)
                return
            release(events)
            yield None
