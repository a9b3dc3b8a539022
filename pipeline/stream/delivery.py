"""At-least-once delivery for the worker's agents: a batch's offsets become committable only
once the broker has acknowledged every output made from it.

Faust's ``take_events`` acks a batch's events when the agent asks for the next batch, and
also in a ``finally:`` when its generator is closed, which happens when the agent is
cancelled or raises in the middle of a batch. An ack there would let Faust commit offsets
whose outputs were never sent. So an agent holds a reference on each message of the batch
in hand (:func:`hold`, ``Message.incref``) and releases it (:func:`release`, the ack that
makes the offset committable) only once every output is acknowledged (:func:`deliver`): the
generator's ack alone never reaches zero.

An agent must also never crash and go on: Faust's supervisor would restart it on later
messages, and Faust commits past a gap at the head of the acked offsets (its check skips a
committed offset of 0 or None and one-offset gaps). So delivery retries until it goes
through; only when the worker is stopping (:class:`Stopping`) does a batch give up after a
grace period (:class:`BatchAbandoned`), and then the agent takes no further batch, leaving it
and everything after uncommitted (:func:`leave_uncommitted`). :func:`commit_acked` makes the
last commit at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import faust

from pipeline.backoff import Backoff

log = logging.getLogger(__name__)

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
    *,
    backoff_max_s: float,
) -> None:
    """Send every output and wait until the broker acknowledged each (``acknowledged`` is
    called for each, with the time); retry what failed with backoff (from 0.5 s up to
    ``backoff_max_s``) for as long as it takes (the batch's offsets stay uncommitted
    meanwhile), or send what ``instead`` gives for it. While the worker stops, gives up after
    the grace period (``BatchAbandoned``)."""
    pending = list(outputs)
    backoff = Backoff(0.5, backoff_max_s)
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
            delay = backoff.next()
            log.warning(
                "the broker did not acknowledge %d of %d outputs (%r); retrying in %.1fs",
                len(failed),
                len(pending),
                error,
                delay,
            )
            if stopping.expired():
                raise BatchAbandoned(f"{len(failed)} outputs unacknowledged")
            await asyncio.sleep(delay)
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


async def _send(topic: Any, key: bytes | None, value: bytes) -> None:
    future = await topic.send(key=key, value=value)
    await future
