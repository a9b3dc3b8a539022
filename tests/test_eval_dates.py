"""The scoring helpers of ``bench/eval_dates.py`` and its path through the normalise stage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, load_script


@pytest.fixture(scope="module")
def evaluation() -> Any:
    return load_script(ROOT / "bench" / "eval_dates.py")


def test_score_counts_right_days_and_pages_without_a_date(evaluation: Any) -> None:
    labels = {"a": "2026-03-20", "b": "2026-03-21", "c": "2026-03-22", "d": "2026-03-23"}
    days = {"a": "2026-03-20", "b": "2026-03-20", "c": None, "x": "2026-03-22"}  # d not dated
    result = evaluation.score(days, labels)
    assert (result.right, result.undated, result.pages) == (1, 2, 4)
    assert result.accuracy == 0.25


def test_day_of_is_the_utc_day(evaluation: Any) -> None:
    evening = datetime(2026, 3, 20, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert evaluation.day_of(evening.astimezone(UTC)) == "2026-03-21"
    assert evaluation.day_of(None) is None


def test_labels_are_days(evaluation: Any, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text('{"p1": "2026-03-20"}')
    bad.write_text('{"p1": "20 March 2026"}')
    assert evaluation.load_labels(good) == {"p1": "2026-03-20"}
    with pytest.raises(ValueError, match="Invalid isoformat"):
        evaluation.load_labels(bad)


def test_the_shipped_labels_are_ids_and_days_only(evaluation: Any) -> None:
    labels = evaluation.load_labels(evaluation.DEFAULT_LABELS)
    assert len(labels) == 61
    assert all(len(page_id) == 64 and int(page_id, 16) >= 0 for page_id in labels)


def test_ours_sends_the_url_and_html_as_a_raw_record(evaluation: Any) -> None:
    html = (
        "<html><head><title>Harbour reopens</title></head><body><article><p>The harbour at "
        "Kilrush reopened on Friday after repairs to the sea wall, the county council said in "
        "a statement on its website.</p></article></body></html>"
    )
    page = evaluation.Page(
        id="p1",
        html=html.encode(),
        truth="",
        url="https://www.example-gazette.com/world/2026/mar/20/harbour-reopens",
    )
    assert evaluation.ours(page) == "2026-03-20"
    assert (
        evaluation.ours(evaluation.Page(id="p2", html=b"<html></html>", truth="", url=None)) is None
    )
