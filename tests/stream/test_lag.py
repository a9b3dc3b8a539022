"""Consumer lag per partition, as the housekeeping timer reports it."""

from __future__ import annotations

from faust.types import TP

from pipeline.stream.agents import partition_lags


def test_lag_is_the_high_watermark_less_the_committed_offset() -> None:
    p0, p1 = TP("raw", 0), TP("raw", 1)
    lags = partition_lags([p0, p1], {p0: 10, p1: 4}.get, {p0: 7, p1: 4})
    assert lags == {("raw", "0"): 3, ("raw", "1"): 0}


def test_an_uncommitted_partition_lags_by_its_whole_length() -> None:
    p0 = TP("raw", 0)
    assert partition_lags([p0], {p0: 5}.get, {}) == {("raw", "0"): 5}


def test_a_partition_not_fetched_yet_is_left_out_not_guessed() -> None:
    p0, p1 = TP("raw", 0), TP("raw", 1)
    assert partition_lags([p0, p1], {p0: 2}.get, {}) == {("raw", "0"): 2}
