"""Delivery without a broker (:mod:`pipeline.stream.delivery` and the enrich agent's
publishing): a held batch is acked only when released, a given-up batch never; publishing
retries, replaces what is refused for its size, and gives up only when the worker stops; the
last commit is not skipped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from aiokafka.errors import (
    KafkaTimeoutError,
    MessageSizeTooLargeError,
)
from faust.exceptions import ProducerSendError
from faust.types.tuples import ConsumerMessage

from pipeline.metrics import Metrics
from pipeline.models import DeadLetter, RawRecord, Reason
from pipeline.stream import agents, delivery
from pipeline.stream.app import Topics

# ---------------------------------------------------------------------------------------------
# Holding a batch's acks


class FakeConsumer:
    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack(self, message: Any) -> bool:
        self.acked.append(message.offset)
        return True


class FakeEvent:
    def __init__(self, consumer: FakeConsumer, offset: int, timestamp: float = 1.7e9) -> None:
        self.consumer = consumer
        self.message = ConsumerMessage("raw", 0, offset, timestamp, 0, None, b"k", b"value", None)
        self.message.incref()  # as the conductor does, for the one stream

    def ack(self) -> bool:
        return bool(self.message.ack(cast(Any, self.consumer)))


def test_a_held_batch_is_acked_on_release_not_when_take_events_acks_it() -> None:
    consumer = FakeConsumer()
    events = [FakeEvent(consumer, offset) for offset in range(3)]
    delivery.hold(events)
    for event in events:  # take_events' finally (the generator closed mid-batch)
        event.ack()
    assert consumer.acked == []
    delivery.release(events)
    assert consumer.acked == [0, 1, 2]


def test_release_before_the_take_events_ack_acks_once() -> None:
    consumer = FakeConsumer()
    events = [FakeEvent(consumer, offset) for offset in range(2)]
    delivery.hold(events)
    delivery.release(events)
    assert consumer.acked == []
    for event in events:
        event.ack()
    assert consumer.acked == [0, 1]


def test_a_given_up_batch_is_never_acked() -> None:
    consumer = FakeConsumer()
    events = [FakeEvent(consumer, offset) for offset in range(2)]
    delivery.hold(events)
    delivery.leave_uncommitted(events)
    for event in events:
        event.ack()
        event.ack()
    assert consumer.acked == []
    assert all(event.message.acked for event in events)  # Faust's shutdown stops waiting


# ---------------------------------------------------------------------------------------------
# Publishing


class FakeTopic:
    """A topic whose sends are answered by ``answer(value, attempt)``: None (acknowledged), an
    exception (failed), or ``...`` (never answered)."""

    def __init__(self, name: str, answer: Callable[[bytes, int], object]) -> None:
        self.name = name
        self.answer = answer
        self.attempts: dict[bytes, int] = {}
        self.acknowledged: list[bytes] = []

    def get_topic_name(self) -> str:
        return self.name

    async def send(self, key: bytes | None, value: bytes) -> asyncio.Future[None]:
        attempt = self.attempts[value] = self.attempts.get(value, 0) + 1
        answer = self.answer(value, attempt)
        if isinstance(answer, BaseException) and isinstance(answer.__cause__, BaseException):
            raise answer  # refused before sending, as Faust's producer does
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if isinstance(answer, BaseException):
            future.set_exception(answer)
        elif answer is None:
            self.acknowledged.append(value)
            future.set_result(None)
        return future


class FakeApp:
    def __init__(self, stopping: bool) -> None:
        self.should_stop = stopping


def _letter(value: bytes, offset: int) -> tuple[RawRecord, DeadLetter]:
    record = RawRecord(value=value, key=b"key", topic="raw", partition=0, offset=offset)
    return record, DeadLetter.of(record, Reason.NO_TEXT, "no text", datetime.now(UTC))


def _publish(
    enriched: FakeTopic, deadletter: FakeTopic, batch: list[tuple[RawRecord, DeadLetter]]
) -> None:
    topics = Topics(raw=None, enriched=enriched, deadletter=deadletter, duplicates=None)
    stopping = delivery.Stopping(FakeApp(stopping=False), 0)  # type: ignore[arg-type]
    records, outcomes = [r for r, _ in batch], [o for _, o in batch]
    asyncio.run(agents._publish(topics, records, outcomes, Metrics(model="test"), stopping, 30.0))


def test_publishing_retries_until_the_broker_acknowledges() -> None:
    def flaky(value: bytes, attempt: int) -> object:
        return KafkaTimeoutError() if attempt < 3 and b"one" in value else None

    deadletter = FakeTopic("dl", flaky)
    _publish(FakeTopic("e", flaky), deadletter, [_letter(b"one", 0), _letter(b"two", 1)])
    letters = [DeadLetter.model_validate_json(v) for v in deadletter.acknowledged]
    assert sorted(letter.original_bytes() for letter in letters) == [b"one", b"two"]


def test_an_output_refused_for_its_size_is_replaced_by_a_smaller_dead_letter() -> None:
    def small_only(value: bytes, attempt: int) -> object:
        if len(value) <= 2000:
            return None
        error = ProducerSendError("too large")
        error.__cause__ = MessageSizeTooLargeError()
        return error

    deadletter = FakeTopic("dl", small_only)
    big = b"x" * 5000
    _publish(FakeTopic("e", small_only), deadletter, [_letter(big, 7), _letter(b"fine", 8)])
    letters = [DeadLetter.model_validate_json(v) for v in deadletter.acknowledged]
    by_offset = {letter.offset: letter for letter in letters}
    assert by_offset[8].original_bytes() == b"fine"
    stripped = by_offset[7]
    assert stripped.reason == Reason.INTERNAL_ERROR
    assert stripped.original == ""
    assert "no_text" in stripped.message
    assert "raw[0]@7" in stripped.message


def test_while_stopping_an_unanswered_batch_is_given_up() -> None:
    topics = Topics(
        raw=None,
        enriched=FakeTopic("e", lambda v, a: ...),
        deadletter=FakeTopic("dl", lambda v, a: ...),
        duplicates=None,
    )
    stopping = delivery.Stopping(FakeApp(stopping=True), 0)  # type: ignore[arg-type]
    record, letter = _letter(b"lost in the post", 0)
    with pytest.raises(delivery.BatchAbandoned):
        asyncio.run(agents._publish(topics, [record], [letter], Metrics(model="t"), stopping, 30.0))


class CommittingConsumer:
    """A commit in progress when asked, as Faust's periodic commit often is at shutdown."""

    def __init__(self) -> None:
        self._acked: dict[str, list[int]] = {"tp": [1, 2, 3]}
        self.in_progress = True
        self.commits = 0

    async def maybe_wait_for_commit_to_finish(self) -> bool:
        was, self.in_progress = self.in_progress, False
        return was

    async def commit(self) -> bool:
        if self.in_progress:
            return False  # Faust: another commit is running, nothing done
        self.commits += 1
        self._acked = {"tp": []}
        return True


def test_the_last_commit_is_made_even_when_a_commit_is_in_progress() -> None:
    consumer = CommittingConsumer()
    asyncio.run(delivery.commit_acked(consumer))
    assert consumer.commits == 1
    assert consumer._acked == {"tp": []}
