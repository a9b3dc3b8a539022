"""The worker's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import generate_latest

from pipeline.enrich import FRAME_STAGES, Enricher
from pipeline.metrics import Metrics
from pipeline.models import Reason
from pipeline.settings import Settings
from pipeline.stages.normalise.dedup import DuplicateKind


def test_every_labelled_series_exists_at_zero_from_the_start() -> None:
    metrics = Metrics(model="m")
    metrics.init_topics(["raw"], ["out", "dead"])
    Enricher(Settings(), metrics=metrics)
    text = generate_latest(metrics.registry).decode()
    for reason in Reason:
        assert f'mediamon_deadletters_total{{reason="{reason.value}"}} 0.0' in text
    for kind in DuplicateKind:
        assert f'mediamon_duplicates_total{{kind="{kind.value}"}} 0.0' in text
    for stage in [*FRAME_STAGES, "entities", "quotes", "stance", "topics"]:
        assert f'mediamon_stage_seconds_count{{stage="{stage}"}} 0.0' in text
    for topic in ("out", "dead"):
        assert f'mediamon_events_published_total{{topic="{topic}"}} 0.0' in text
    assert 'mediamon_messages_consumed_total{topic="raw"} 0.0' in text
    for since in ("ingest", "publication"):
        assert f'mediamon_end_to_end_latency_seconds_count{{since="{since}"}} 0.0' in text
    assert 'mediamon_build_info{model="m",version="0.1.0"} 1.0' in text
    assert "process_resident_memory_bytes" in text


def test_observe_stage_lands_in_the_stage_histogram() -> None:
    metrics = Metrics()
    metrics.observe_stage("entities", 0.02)
    text = generate_latest(metrics.registry).decode()
    assert 'mediamon_stage_seconds_count{stage="entities"} 1.0' in text
