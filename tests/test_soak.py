"""The pure helpers of ``bench/soak.py``: the load's schedule with a burst, and what it reads
from the worker's metrics."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ROOT, load_script


@pytest.fixture(scope="module")
def soak() -> Any:
    return load_script(ROOT / "bench" / "soak.py")


def test_a_steady_load_sends_at_its_rate_until_the_duration(soak: Any) -> None:
    assert list(soak.send_times(2.0, 2.0)) == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_a_burst_sends_at_its_rate_inside_its_window_only(soak: Any) -> None:
    times = list(soak.send_times(1.0, 6.0, (4.0, 2.5, 1.0)))
    assert times[:3] == [0.0, 1.0, 2.0]
    assert times[3:7] == pytest.approx([2.5, 2.75, 3.0, 3.25])  # the burst starts on time
    assert times[7:] == pytest.approx([3.5, 4.5, 5.5])
    in_window = [t for t in times if 2.5 <= t < 3.5]
    assert len(in_window) == 4


def test_a_burst_is_given_as_rate_start_and_seconds(soak: Any) -> None:
    assert soak.parse_burst("120:20:30") == (120.0, 20.0, 30.0)
    for bad in ("120:20", "0:20:30", "10:-1:5", "10:5:0", "fast:1:2"):
        with pytest.raises(ValueError, match=r"^burst"):
            soak.parse_burst(bad)


def test_the_worker_metrics_give_table_entries_and_stance_articles_by_model(soak: Any) -> None:
    metrics = (
        "# TYPE mediamon_stance_articles_total counter\n"
        'mediamon_stance_articles_total{behind="false",model="standard"} 40.0\n'
        'mediamon_stance_articles_total{behind="true",model="lite"} 2.5e+03\n'
        'mediamon_stance_articles_total{behind="true",model="standard"} 1.0\n'
        'mediamon_table_entries{table="dedup"} 17.0\n'
        'mediamon_table_entries{table="trends"} 90.0\n'
    )
    assert soak.stance_articles(metrics) == {False: 40.0, True: 2501.0}
    assert soak.table_entries(metrics) == 17
    assert soak.stance_articles("") == {False: 0.0, True: 0.0}
    assert soak.table_entries("") is None
