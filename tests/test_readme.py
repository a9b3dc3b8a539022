"""The README documents what the code has."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from pipeline.metrics import Metrics
from pipeline.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [n for n in Settings.model_fields if f"`MEDIAMON_{n.upper()}`" not in README]
    assert missing == []


def test_every_mediamon_metric_is_documented() -> None:
    metrics = Metrics()
    suffix = {"counter": "_total", "info": "_info"}
    names = [
        m._name + suffix.get(m._type or "", "")
        for m in vars(metrics).values()
        if isinstance(m, MetricWrapperBase)
    ]
    assert names
    assert [n for n in names if f"`{n}`" not in README] == []
