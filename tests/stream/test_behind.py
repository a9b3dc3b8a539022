"""When a batch shows the worker behind its input (its stance stage then takes the backlog
model): a full batch, or a record that waited too long."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.models import RawRecord
from pipeline.stream.agents import behind

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()


def _stamped(*ages: float | None) -> list[RawRecord]:
    return [
        RawRecord(
            value=b"x",
            timestamp=None if age is None else datetime.fromtimestamp(NOW - age, UTC),
        )
        for age in ages
    ]


def test_a_full_batch_is_behind_however_fresh() -> None:
    assert behind(_stamped(0.0, 0.0), batch_size=2, after_s=1.0, now=NOW)
    assert not behind(_stamped(0.0), batch_size=2, after_s=1.0, now=NOW)


def test_a_batch_is_behind_once_its_oldest_record_waited_the_limit() -> None:
    assert behind(_stamped(0.1, 1.0), batch_size=32, after_s=1.0, now=NOW)
    assert not behind(_stamped(0.1, 0.9), batch_size=32, after_s=1.0, now=NOW)


def test_records_without_a_timestamp_do_not_count_as_waiting() -> None:
    assert not behind(_stamped(None, None), batch_size=32, after_s=1.0, now=NOW)
    assert behind(_stamped(None, 5.0), batch_size=32, after_s=1.0, now=NOW)
