"""The pure helpers of ``bench/bench_pipeline.py`` (figures, ratios, goals, schedule)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import ROOT, load_script


@pytest.fixture(scope="module")
def bench() -> Any:
    return load_script(ROOT / "bench" / "bench_pipeline.py")


def test_percentiles_interpolate_between_ranks(bench: Any) -> None:
    values = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert bench.percentile(values, 0) == 1.0
    assert bench.percentile(values, 50) == 3.0
    assert bench.percentile(values, 100) == 5.0
    assert bench.percentile(values, 90) == pytest.approx(4.6)
    assert bench.percentile([7.0], 99) == 7.0
    latencies = [0.1] * 98 + [3.0, 9.0]
    assert bench.percentile(latencies, 50) == pytest.approx(0.1)
    assert bench.percentile(latencies, 99) == pytest.approx(3.0 + 0.01 * 6.0)


def test_percentile_of_nothing_or_out_of_range_is_refused(bench: Any) -> None:
    with pytest.raises(ValueError, match="no values"):
        bench.percentile([], 50)
    with pytest.raises(ValueError, match="q must be"):
        bench.percentile([1.0], 101)


def test_ratios_are_none_when_a_side_is_missing(bench: Any) -> None:
    assert bench.ratio(30.0, 20.0) == 1.5
    assert bench.ratio(None, 20.0) is None
    assert bench.ratio(30.0, None) is None
    assert bench.ratio(30.0, 0.0) is None


def test_goals_compare_in_their_direction(bench: Any) -> None:
    assert bench.goal_met("e2e_vs_bare", 1.0) is True
    assert bench.goal_met("e2e_vs_bare", 0.99) is False
    assert bench.goal_met("latency_p99_s", 2.0) is True
    assert bench.goal_met("latency_p99_s", 2.5) is False
    assert bench.goal_met("two_vs_one", None) is None


def test_steady_schedule_spaces_sends_evenly(bench: Any) -> None:
    assert bench.steady_schedule(4.0, 1.0) == [0.0, 0.25, 0.5, 0.75]
    assert len(bench.steady_schedule(12.5, 30.0)) == 375
    assert bench.steady_schedule(0.0, 10.0) == []


def test_results_hold_the_headline_keys(bench: Any) -> None:
    runs = {
        "bare": bench.Run("bare", 100, 38_000, 10.0, cpu_ms=95.0),
        "naive": bench.Run("naive", 100, 38_000, 12.5, 1, peak_rss_mb=[200.0]),
        "one": bench.Run("one", 100, 38_000, 8.0, 1, peak_rss_mb=[340.0]),
        "two": bench.Run("two", 100, 38_000, 5.0, 2, peak_rss_mb=[330.0, 350.0]),
        "one_standard_stance": bench.Run("one_standard_stance", 100, 38_000, 20.0, 1),
        "one_no_stance": bench.Run("one_no_stance", 100, 38_000, 4.0, 1, peak_rss_mb=[300.0]),
        "one_fast_stance": bench.Run("one_fast_stance", 100, 38_000, 5.0, 1, peak_rss_mb=[320.0]),
        "one_lite_stance": bench.Run("one_lite_stance", 100, 38_000, 8.0, 1, peak_rss_mb=[310.0]),
    }
    latency = bench.Latency(6.25, 30.0, 187, 0, 0.4, 0.9, 1.2, 1.5)
    document = bench.results(runs, latency, {"cores": 2}, {})
    assert document["e2e_vs_bare"] == pytest.approx(1.25)
    assert document["e2e_vs_naive"] == pytest.approx(1.5625)
    assert document["two_vs_one"] == pytest.approx(1.6)
    assert document["e2e_no_stance_vs_bare"] == pytest.approx(2.5)
    assert "e2e_no_stance_vs_bare" not in document["goals"]  # a figure, not one of the goals
    assert document["e2e_fast_stance_vs_bare"] == pytest.approx(2.0)
    assert document["e2e_lite_stance_vs_bare"] == pytest.approx(1.25)
    assert document["e2e_standard_stance_vs_bare"] == pytest.approx(0.5)
    lines = bench.summary_lines(document)
    assert any(line.startswith("stance off vs bare spaCy") and "2.50" in line for line in lines)
    assert document["latency_p99_s"] == 1.2
    assert document["peak_rss_mb"] == 350.0  # the largest Mediamon worker, not the naive agent
    assert document["articles"] == 100
    assert document["machine"] == {"cores": 2}
    assert document["goals"]["two_vs_one"]["met"] is False
    assert document["runs"]["one"]["words_per_s"] == pytest.approx(4750.0)


def test_variant_runs_give_their_settings_to_the_workers(bench: Any, tmp_path: Path) -> None:
    class Broker:
        pid = 1

        def configure(self, settings: Any) -> Any:
            return settings

    for name, expected in (
        ("one_standard_stance", {"MEDIAMON_STANCE_BACKLOG_MODEL": ""}),
        ("one_fast_stance", {"MEDIAMON_STANCE_MODEL": "fast", "MEDIAMON_STANCE_BACKLOG_MODEL": ""}),
        ("one_lite_stance", {"MEDIAMON_STANCE_MODEL": "lite", "MEDIAMON_STANCE_BACKLOG_MODEL": ""}),
        ("one_no_stance", {"MEDIAMON_STANCE_ENABLED": "false"}),
    ):
        stream = bench.mediamon_stream(Broker(), tmp_path, name, 1, 4, bench.VARIANTS[name])
        ((_, env),) = stream.launches
        assert {key: env[key].lower() for key in expected} == expected
    ((_, env),) = bench.mediamon_stream(Broker(), tmp_path, "one", 1, 4).launches
    assert env.get("MEDIAMON_STANCE_MODEL", "standard") == "standard"
    assert env.get("MEDIAMON_STANCE_BACKLOG_MODEL", "lite") == "lite"
    assert env.get("MEDIAMON_STANCE_ENABLED", "true").lower() == "true"


def test_events_are_counted_by_the_stance_model_they_name(bench: Any) -> None:
    values = [
        orjson.dumps({"record_type": "enriched", "stance_model": "lite"}),
        orjson.dumps({"record_type": "enriched", "stance_model": "standard"}),
        orjson.dumps({"record_type": "enriched", "stance_model": "lite"}),
        orjson.dumps({"record_type": "enriched", "stance_model": None}),
        orjson.dumps({"record_type": "deadletter"}),
    ]
    counts = bench.stance_models(values)
    assert counts == {"lite": 2, "none": 1, "standard": 1}
    assert bench.shares(counts) == "lite 50%, none 25%, standard 25%"
    assert bench.shares({}) == "-"
