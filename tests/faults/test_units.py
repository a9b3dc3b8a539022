"""The enrich agent's and the worker's start without a broker: hostile timestamps, a batch
sorted into articles, stand-ins and tombstones; the worker waits for its broker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.settings import Settings
from pipeline.stream import agents
from pipeline.stream.batches import MARKER
from pipeline.stream.worker import wait_for_broker
from pipeline.transport.client import BrokerUnavailable
from tests.stream.test_delivery import FakeConsumer, FakeEvent


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (2**62 / 1000, None),
        (253_402_300_800.0, None),  # year 10000
        (-(2**62) / 1000, None),
        (-0.001, None),  # Kafka's "no timestamp"
        (0.0, None),
        (float("nan"), None),
        (1_700_000_000.0, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ],
)
def test_a_record_survives_any_timestamp(seconds: float, expected: datetime | None) -> None:
    record = agents.to_record(FakeEvent(FakeConsumer(), 5, timestamp=seconds))
    assert record.timestamp == expected
    assert (record.value, record.key, record.offset) == (b"value", b"k", 5)


# ---------------------------------------------------------------------------------------------
# Waiting for the broker


def test_the_worker_waits_for_the_broker_with_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def ensure(settings: Settings) -> list[str]:
        calls.append(1)
        if len(calls) < 4:
            raise BrokerUnavailable("no Kafka broker reachable at 127.0.0.1:1")
        return []

    monkeypatch.setattr("pipeline.stream.worker.ensure_topics", ensure)
    slept: list[float] = []
    wait_for_broker(Settings(), sleep=slept.append)
    assert slept == [1.0, 2.0, 4.0]
    calls.clear()
    slept.clear()
    wait_for_broker(Settings(retry_backoff_max_s=1.5), sleep=slept.append)
    assert slept == [1.0, 1.5, 1.5]  # MEDIAMON_RETRY_BACKOFF_MAX_S bounds the wait
    calls.clear()
    with pytest.raises(BrokerUnavailable):
        wait_for_broker(Settings(), attempts=2, sleep=slept.append)


def test_bad_credentials_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    from kafka.errors import SaslAuthenticationFailedError

    def ensure(settings: Settings) -> list[str]:
        raise SaslAuthenticationFailedError("bad password")

    monkeypatch.setattr("pipeline.stream.worker.ensure_topics", ensure)
    slept: list[float] = []
    with pytest.raises(SaslAuthenticationFailedError):
        wait_for_broker(Settings(), sleep=slept.append)
    assert slept == []


def test_a_batch_sorts_articles_stand_ins_and_tombstones() -> None:
    consumer = FakeConsumer()
    article, empty, tombstone, stand_in, forged = (FakeEvent(consumer, o) for o in range(5))
    empty.message.value = b""
    tombstone.message.value = None
    stand_in.message.headers = [(MARKER, b"CorruptRecordException()")]
    forged.message.headers = [("mediamon-undecodable", b"not ours")]

    batch = agents.Batch.of([article, empty, tombstone, stand_in, forged])

    assert [r.offset for r in batch.articles] == [0, 1, 4]  # an empty value is an article's
    assert [(r.offset, error) for r, error in batch.undecodable] == [
        (3, "CorruptRecordException()")
    ]
    assert [r.offset for r in batch.tombstones] == [2]
