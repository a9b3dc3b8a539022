"""The trend arithmetic: what an article counts for, windows and expiry, the burst score,
ranking, and picking the current records."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from pipeline.models import Trend, TrendKind
from pipeline.rules.trends import (
    NotCounted,
    RankBy,
    Sighting,
    Snapshot,
    Term,
    TermState,
    Windows,
    add,
    burst_score,
    increments,
    kept,
    latest_window,
    parse_increments,
    parse_key,
    partition_of,
    sighting,
    snapshot,
    top,
)

HOUR = Windows(size=3600, baseline=3, expires=4 * 3600)
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC).timestamp()  # half-way through 10:00-11:00
TEN = int(datetime(2026, 3, 2, 10, tzinfo=UTC).timestamp())


def event(**fields: Any) -> dict[str, Any]:
    """An enriched-topic record as a consumer decodes it, with what trends read."""
    base: dict[str, Any] = {
        "record_type": "enriched",
        "enriched": True,
        "duplicate_of": None,
        "ingested_at": "2026-03-02T10:05:00+00:00",
        "published_at": "2026-03-02T07:00:00+00:00",
        "entities": [
            {"id": "Q20", "name": "Norway", "salience": 0.8, "mentions": [{}, {}, {}]},
            {"id": "local:per:ingrid-dahl", "name": "Ingrid Dahl", "salience": 0.2},
            {"id": "Q183", "name": "Germany", "salience": 0.01},  # in passing
        ],
        "topics": [{"id": "medtop:11000000", "label": "politics", "score": 0.9}],
    }
    return base | fields


# What an article counts for


def test_an_article_counts_once_for_each_distinct_entity_and_tag() -> None:
    seen = sighting(event(), "ingested", 0.05, NOW)
    assert {t.key for t in seen.terms} == {
        "entity:Q20",
        "entity:local:per:ingrid-dahl",
        "tag:medtop:11000000",
    }
    assert Term(TrendKind.ENTITY, "Q20", "Norway") in seen.terms


def test_each_distinct_location_counts_once_under_its_name() -> None:
    places = [{"id": "Q87", "name": "Alexandria"}, {"id": "Q87", "name": "Alexandria"},
              {"id": "geonames:4314550", "name": "Alexandria"}]  # fmt: skip
    seen = sighting(event(locations=places), "ingested", 0.5, NOW)
    locations = [t for t in seen.terms if t.kind == TrendKind.LOCATION]
    assert sorted(t.key for t in locations) == ["location:Q87", "location:geonames:4314550"]
    assert {t.label for t in locations} == {"Alexandria"}


def test_an_entity_counts_only_when_salient_enough_and_tags_always() -> None:
    keys = {t.key for t in sighting(event(), "ingested", 0.0, NOW).terms}
    assert "entity:Q183" in keys  # every entity named
    strict = {t.key for t in sighting(event(), "ingested", 0.5, NOW).terms}
    assert strict == {"entity:Q20", "tag:medtop:11000000"}


def test_the_same_id_twice_in_an_article_counts_once_with_the_first_label() -> None:
    twice = event(
        entities=[
            {"id": "Q20", "name": "Norway", "salience": 0.5},
            {"id": "Q20", "name": "Norge", "salience": 0.5},
        ]
    )
    (term, *_) = sighting(twice, "ingested", 0.05, NOW).terms
    assert term == Term(TrendKind.ENTITY, "Q20", "Norway")
    assert len(sighting(twice, "ingested", 0.05, NOW).terms) == 2  # Norway and the tag


def test_an_entity_and_a_tag_with_the_same_id_are_different_terms() -> None:
    both = event(
        entities=[{"id": "x", "name": "X", "salience": 1.0}], topics=[{"id": "x", "label": "X"}]
    )
    assert [t.key for t in sighting(both, "ingested", 0.05, NOW).terms] == ["entity:x", "tag:x"]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (event(duplicate_of="abc"), "duplicate"),
        (event(enriched=False, entities=[], topics=[]), "not_enriched"),
        ({"record_type": "deadletter", "reason": "empty"}, "invalid"),
        ([1, 2], "invalid"),
        (event(entities="Norway"), "invalid"),
        (event(entities=[{"id": 20, "name": "Norway", "salience": 1.0}]), "invalid"),
        (event(entities=[{"id": "Q20", "name": "Norway", "salience": "high"}]), "invalid"),
        (event(entities=[{"id": "Q20", "name": "Norway"}]), "invalid"),  # no salience
        (event(topics=[{"id": "", "label": "empty"}]), "invalid"),
        (event(topics=["politics"]), "invalid"),
        (event(ingested_at="yesterday"), "invalid"),
        (event(ingested_at="2026-03-02T10:05:00"), "invalid"),  # no zone: ambiguous
    ],
)
def test_records_that_add_nothing_say_why(record: object, reason: str) -> None:
    with pytest.raises(NotCounted) as raised:
        sighting(record, "ingested", 0.05, NOW)
    assert raised.value.reason == reason


def test_the_time_is_the_ingest_time_or_the_publication_time_when_asked() -> None:
    ingested = datetime(2026, 3, 2, 10, 5, tzinfo=UTC).timestamp()
    published = datetime(2026, 3, 2, 7, tzinfo=UTC).timestamp()
    assert sighting(event(), "ingested", 0.05, NOW).time == ingested
    assert sighting(event(), "published", 0.05, NOW).time == published
    assert sighting(event(published_at=None), "published", 0.05, NOW).time == ingested


def test_a_time_in_the_future_counts_as_now() -> None:
    future = event(ingested_at="2027-01-01T00:00:00+00:00")
    assert sighting(future, "ingested", 0.05, NOW).time == NOW


def test_labels_are_bounded_and_never_empty() -> None:
    long = event(
        entities=[{"id": "Q1", "name": "x" * 1000, "salience": 1.0}],
        topics=[{"id": "t", "label": ""}],
    )
    labels = {t.id: t.label for t in sighting(long, "ingested", 0.05, NOW).terms}
    assert labels == {"Q1": "x" * 200, "t": "t"}


# Windows


def test_windows_are_aligned_on_multiples_of_their_size() -> None:
    assert HOUR.start(NOW) == TEN
    assert HOUR.start(TEN) == TEN
    assert HOUR.start(TEN - 0.001) == TEN - 3600
    assert HOUR.elapsed(TEN, NOW) == 0.5
    assert HOUR.elapsed(TEN - 3600, NOW) == 1.0
    assert HOUR.elapsed(TEN + 3600, NOW) == 0.0


def test_a_window_is_late_once_its_end_is_older_than_the_expiry() -> None:
    # expires = 4 h: at 10:30 the window 05:00-06:00 ended 4.5 h ago, 06:00-07:00 3.5 h ago
    assert HOUR.late(TEN - 5 * 3600, NOW)
    assert not HOUR.late(TEN - 4 * 3600, NOW)
    assert not HOUR.late(TEN, NOW)


# Routing a batch


def test_a_batch_is_summed_per_term_and_window_and_grouped_by_counting_partition() -> None:
    norway = Term(TrendKind.ENTITY, "Q20", "Norway")
    chile = Term(TrendKind.ENTITY, "Q298", "Chile")
    tag = Term(TrendKind.TAG, "medtop:04000000", "economy")
    batch = [
        Sighting(TEN + 10, (norway, tag)),
        Sighting(TEN + 20, (norway,)),
        Sighting(TEN + 30, (norway, chile)),
        Sighting(TEN - 60, (norway,)),  # the previous window
    ]
    grouped = increments(batch, HOUR, partitions=4)
    flat = {(key, start): n for found in grouped.values() for key, _, start, n in found}
    assert flat == {
        ("entity:Q20", TEN): 3,
        ("entity:Q20", TEN - 3600): 1,
        ("entity:Q298", TEN): 1,
        ("tag:medtop:04000000", TEN): 1,
    }
    for partition, found in grouped.items():
        assert {partition_of(key, 4) for key, *_ in found} == {partition}


def test_the_counting_partition_is_the_same_in_every_process_and_spreads_terms() -> None:
    keys = [f"entity:Q{i}" for i in range(200)]
    here = [partition_of(k, 8) for k in keys]
    script = (
        "import sys; from pipeline.rules.trends import partition_of;"
        f" print([partition_of(k, 8) for k in {keys!r}])"
    )
    for seed in ("1", "2"):  # unlike hash(), whatever the interpreter's hash seed
        other = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert orjson.loads(other.stdout) == here
    assert set(here) == set(range(8))


def test_increments_survive_the_trip_through_json_and_malformed_ones_are_refused() -> None:
    found = [("entity:Q20", "Norway", TEN, 3), ("tag:medtop:1", "arts", TEN, 1)]
    assert parse_increments(orjson.loads(orjson.dumps(found))) == found
    for bad in (
        {"entity:Q20": 3},
        [["entity:Q20", "Norway", TEN]],
        [["entity:Q20", "Norway", str(TEN), 3]],
        [["entity:Q20", "Norway", TEN, 0]],
        [["person:Q20", "Norway", TEN, 1]],
        [["entity:Q20", None, TEN, 1]],
    ):
        with pytest.raises(ValueError, match=r"increment|not a valid"):
            parse_increments(bad)


# Counting


def test_counts_add_up_per_window_and_late_counts_are_refused() -> None:
    state = add(None, ("entity:Q20", "Norway", TEN, 2), 1, HOUR, NOW)
    state = add(state, ("entity:Q20", "Norway", TEN, 3), 1, HOUR, NOW)
    state = add(state, ("entity:Q20", "Norway", TEN - 3600, 1), 1, HOUR, NOW)
    assert state == TermState("Norway", 1, {TEN: 5, TEN - 3600: 1})
    assert add(state, ("entity:Q20", "Norway", TEN - 5 * 3600, 1), 1, HOUR, NOW) is None


def test_windows_no_longer_kept_are_dropped_as_counts_arrive() -> None:
    old = TermState("Norway", 0, {TEN - 6 * 3600: 9, TEN - 3600: 1})
    assert add(old, ("entity:Q20", "Norge", TEN, 1), 0, HOUR, NOW) == TermState(
        "Norge", 0, {TEN - 3600: 1, TEN: 1}
    )
    assert kept(old, HOUR, NOW + 4 * 3600).counts == {}


def test_a_term_state_round_trips_through_json_and_rejects_garbage() -> None:
    state = TermState("Norway", 3, {TEN: 4, TEN - 3600: 1})
    assert TermState.from_json(orjson.loads(orjson.dumps(state.to_json()))) == state
    for bad in (None, {"label": "x"}, {"label": "x", "partition": 0, "counts": [[1]]}):
        with pytest.raises(ValueError, match="not a term state"):
            TermState.from_json(bad)


# Burst score


def test_the_burst_score_is_a_poisson_z_score_with_one_pseudo_count() -> None:
    assert burst_score(5, 0.0) == 5.0  # never seen before: the count itself
    assert burst_score(4, 4.0) == 0.0  # as usual
    assert burst_score(13, 8.0) == pytest.approx(5 / 3)  # 5 above, sd sqrt(9)
    assert burst_score(0, 8.0) == pytest.approx(-8 / 3)


def test_the_baseline_is_the_mean_of_the_previous_windows_missing_ones_counting_zero() -> None:
    state = TermState("Norway", 0, {TEN: 12, TEN - 3600: 4, TEN - 3 * 3600: 2, TEN - 4 * 3600: 50})
    closed = snapshot("entity:Q20", state, TEN, HOUR, TEN + 3600)
    assert closed == Snapshot(
        TrendKind.ENTITY, "Q20", "Norway", TEN, 12, 2.0, burst_score(12, 2.0)
    )  # (4 + 0 + 2) / 3; the window four back is outside the baseline


def test_the_current_window_is_compared_with_the_share_of_the_baseline_elapsed() -> None:
    steady = TermState("Norway", 0, {TEN: 5, **{TEN - i * 3600: 10 for i in (1, 2, 3)}})
    halfway = snapshot("entity:Q20", steady, TEN, HOUR, NOW)
    assert halfway.baseline_mean == 10.0
    assert halfway.burst == pytest.approx(0.0)  # 5 in half a window of 10 an hour
    rising = TermState("Norway", 0, {TEN: 30, **{TEN - i * 3600: 10 for i in (1, 2, 3)}})
    assert snapshot("entity:Q20", rising, TEN, HOUR, NOW).burst == pytest.approx(25 / math.sqrt(6))


def test_a_rising_story_outscores_a_bigger_steady_one() -> None:
    big = TermState("United States", 0, {TEN: 100, **{TEN - i * 3600: 95 for i in (1, 2, 3)}})
    new = TermState("Ingrid Dahl", 0, {TEN: 12})
    end = TEN + 3600
    assert snapshot("entity:x", new, TEN, HOUR, end).burst > 10
    assert snapshot("entity:y", big, TEN, HOUR, end).burst < 1


# Ranking


def row(term_id: str, count: int, burst: float) -> Snapshot:
    return Snapshot(TrendKind.ENTITY, term_id, term_id, TEN, count, 0.0, burst)


def test_top_ranks_by_count_then_burst_then_id() -> None:
    rows = [row("c", 5, 1.0), row("a", 9, 0.0), row("b", 5, 2.0), row("d", 5, 1.0)]
    assert [r.id for r in top(rows, 10)] == ["a", "b", "c", "d"]
    assert [r.id for r in top(rows, 2)] == ["a", "b"]
    assert top([], 3) == []


def test_top_by_burst_puts_rising_terms_first() -> None:
    rows = [row("steady", 90, 0.5), row("rising", 12, 11.0), row("new", 3, 3.0)]
    assert [r.id for r in top(rows, 2, RankBy.BURST)] == ["rising", "new"]


# The current records


def trend(term_id: str, start: datetime, count: int, updated: datetime) -> Trend:
    return Trend(
        kind=TrendKind.TAG,
        id=term_id,
        label=term_id,
        window_start=start,
        window_end=start + timedelta(hours=1),
        count=count,
        baseline_mean=0.0,
        burst=float(count),
        updated_at=updated,
    )


def test_the_current_records_are_the_latest_of_each_term_in_the_newest_window() -> None:
    ten = datetime.fromtimestamp(TEN, UTC)
    nine = ten - timedelta(hours=1)
    records = [
        trend("a", nine, 40, nine + timedelta(minutes=59)),
        trend("a", ten, 1, ten + timedelta(minutes=1)),
        trend("a", ten, 3, ten + timedelta(minutes=9)),
        trend("a", ten, 2, ten + timedelta(minutes=5)),  # arrived late, older snapshot
        trend("b", ten, 7, ten + timedelta(minutes=2)),
        trend("c", nine, 9, nine + timedelta(minutes=30)),
    ]
    current = latest_window(records)
    assert sorted((r.id, r.count) for r in current) == [("a", 3), ("b", 7)]
    assert latest_window([]) == []


def test_keys_name_their_kind() -> None:
    assert parse_key("tag:medtop:11000000") == (TrendKind.TAG, "medtop:11000000")
    assert parse_key(Term(TrendKind.ENTITY, "local:per:x", "X").key) == (
        TrendKind.ENTITY,
        "local:per:x",
    )
