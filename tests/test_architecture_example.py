"""The worked example of docs/architecture.md ("Adding a stage") runs as written: the stage
added to the standard list is run, timed and cached by the enricher, and its output reaches
the events."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import orjson
from prometheus_client import generate_latest

from pipeline.enrich import Enricher
from pipeline.metrics import Metrics
from pipeline.models import EnrichedEvent, RawRecord
from pipeline.resources.kb import default_kb
from pipeline.settings import Settings
from pipeline.stages.standard import standard_stages

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def example() -> ModuleType:
    """The page's Python block, as a module."""
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    module = ModuleType("headline")
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    return module


def test_the_documented_stage_runs_in_the_enricher() -> None:
    settings = Settings()
    metrics = Metrics()
    stages = standard_stages(settings, default_kb(), metrics)
    stages.append(example().HeadlineStage(settings.languages))
    enricher = Enricher(settings, stages=stages, metrics=metrics)
    article = {
        "title": "Anna Keller wins the vote in Leeds",
        "body": "Anna Keller won the mayoral vote in Leeds on Sunday, officials said.",
    }
    value = orjson.dumps(article)
    first, copy = enricher.process([RawRecord(value=value), RawRecord(value=value)])
    assert isinstance(first, EnrichedEvent)
    assert isinstance(copy, EnrichedEvent)
    headline = [t.label for t in first.topics if t.id.startswith("tag:headline-")]
    assert "Anna Keller" in headline
    assert [t.id for t in copy.topics] == [t.id for t in first.topics]  # from the cache
    text = generate_latest(metrics.registry).decode()
    assert 'mediamon_stage_seconds_count{stage="headline"} 1.0' in text
