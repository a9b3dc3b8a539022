"""The dashboard and the alert rules against the real thing: the embedded broker, a real worker
and a real Prometheus scraping it every second with deploy/prometheus/alerts.yml loaded. Every
query of every dashboard panel and variable must return data, on the idle worker and after
articles (a duplicate and bad input among them) went through; the alert rules must load and
evaluate; the worker's exposition must pass `promtool check metrics`."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from pipeline import DATA_DIR
from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker, stop_process
from pipeline.transport.client import push
from tests.conftest import FIXTURES, WorkerProcess, embedded_settings
from tests.deploy.helpers import (
    ALERTS,
    Query,
    Result,
    api,
    dashboard_queries,
    exposition_problems,
    has_data,
    has_number,
    query,
    require_binary,
    snapshot,
    start_prometheus,
    wait_for,
)

pytestmark = pytest.mark.integration

ARTICLES = sorted((FIXTURES / "articles").iterdir())
EXAMPLES = DATA_DIR / "examples" / "articles"
# A story and a syndicated copy of it (another URL, one sentence reworded): a near duplicate.
STORY_AND_COPY = [
    EXAMPLES / "02-riksbank-holds-rate.json",
    EXAMPLES / "07-riksbank-holds-rate-syndicated.json",
]
BAD_INPUT = {b"": "empty", b'{"title": "Unclosed", "body": "no end"': "invalid_json"}


@dataclass
class Stack:
    settings: Settings
    prometheus: str
    idle: dict[Query, Result]
    busy: dict[Query, Result]


@pytest.fixture(scope="module")
def stack(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A worker with Prometheus scraping it. Before yielding it records every dashboard query
    on the idle worker, then pushes articles and bad input and records them again."""
    binary = require_binary("prometheus", "prometheus")
    directory = tmp_path_factory.mktemp("prometheus")
    settings = embedded_settings(broker, directory / "data")
    queries = dashboard_queries()
    worker = WorkerProcess(settings, directory / "worker.log")
    worker.start()
    process: subprocess.Popen[bytes] | None = None
    try:
        process, prometheus = start_prometheus(
            binary, directory, f"127.0.0.1:{settings.metrics_port}"
        )
        wait_for(
            lambda: bool(query(prometheus, 'up{job="mediamon"} == 1')),
            60,
            "Prometheus to scrape the worker",
            worker,
        )
        idle = snapshot(prometheus, queries, has_data, 40, worker)

        inputs = [path.read_bytes() for path in [*ARTICLES, *STORY_AND_COPY]] + [*BAD_INPUT]
        push(settings, inputs)
        # Every input comes out (enriched or dead-lettered) once the broker acknowledged it.
        wait_for(
            lambda: bool(
                query(prometheus, f"sum(mediamon_events_published_total) >= {len(inputs)}")
            ),
            60,
            "Prometheus to count every output",
            worker,
        )
        busy = snapshot(prometheus, queries, lambda q, r: has_number(r), 20, worker)
        yield Stack(settings, prometheus, idle, busy)
    finally:
        if process is not None:
            stop_process(process)
        worker.stop()
        log = directory / "prometheus.log"
        prometheus_log = log.read_text(errors="replace") if log.exists() else ""
        sys.stderr.write(f"--- worker log ---\n{worker.log()[-3000:]}\n")
        sys.stderr.write(f"--- prometheus log ---\n{prometheus_log[-3000:]}\n")


def test_prometheus_scrapes_the_worker(stack: Stack) -> None:
    targets = api(stack.prometheus, "/api/v1/targets")["activeTargets"]
    (target,) = targets
    assert target["labels"]["job"] == "mediamon"
    assert target["health"] == "up", target
    assert target["scrapeUrl"] == f"http://127.0.0.1:{stack.settings.metrics_port}/metrics"


def test_every_dashboard_query_returns_data_on_the_idle_worker(stack: Stack) -> None:
    empty = [q.name for q, result in stack.idle.items() if not has_data(q, result)]
    assert not empty, f"no data on the idle worker: {empty}"
    assert len(stack.idle) == len(dashboard_queries()) >= 20
    variables = {
        q.name: {s["metric"][q.label] for s in r} for q, r in stack.idle.items() if q.label
    }
    assert variables["variable instance"] == {f"127.0.0.1:{stack.settings.metrics_port}"}
    settings = stack.settings
    assert variables["variable topic"] >= {
        settings.topic_raw,
        settings.topic_enriched,
        settings.topic_deadletter,
    }


def test_every_dashboard_query_shows_numbers_once_articles_went_through(stack: Stack) -> None:
    without_number = [q.name for q, result in stack.busy.items() if not has_number(result)]
    assert not without_number, f"only NaN or nothing after traffic: {without_number}"

    def series(title: str, label: str) -> dict[str, float]:
        (q,) = [q for q in stack.busy if q.name.startswith(f"panel {title} [")]
        return {s["metric"][label]: float(s["value"][1]) for s in stack.busy[q]}

    reasons = series("Dead letters by reason", "reason")
    assert {reason for reason, rate in reasons.items() if rate > 0} == set(BAD_INPUT.values())
    assert sum(series("Duplicates by kind", "kind").values()) > 0
    lag = series("Consumer lag per partition", "partition")
    assert set(lag) == {"0", "1"}


def test_alert_rules_are_loaded_and_evaluated(stack: Stack) -> None:
    alerts = re.findall(r"^\s*- alert: (\w+)", ALERTS.read_text(), re.M)
    groups = api(stack.prometheus, "/api/v1/rules")["groups"]
    assert [group["name"] for group in groups] == ["mediamon"]
    (group,) = groups
    assert group["file"] == str(ALERTS)
    assert [rule["name"] for rule in group["rules"]] == alerts
    now = datetime.now(UTC)
    for rule in group["rules"]:
        assert rule["health"] == "ok", rule
        assert rule["type"] == "alerting"
        evaluated = _timestamp(rule["lastEvaluation"])
        assert (now - evaluated).total_seconds() < 15, rule
    firing = [
        a for a in api(stack.prometheus, "/api/v1/alerts")["alerts"] if a["state"] == "firing"
    ]
    assert not firing, f"alerts firing on a healthy worker: {firing}"


def test_worker_metrics_pass_promtool_check_metrics(stack: Stack) -> None:
    exposition, problems = exposition_problems(stack.settings.metrics_port)
    assert b"mediamon_messages_consumed_total" in exposition
    assert problems == ""


def _timestamp(text: str) -> datetime:
    """An RFC 3339 time from Prometheus (nanoseconds, ``Z``) as an aware datetime."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return datetime.fromisoformat(text)
