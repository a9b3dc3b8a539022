"""The dashboard and the alert rules against the real thing: the embedded broker, a real worker
and a real Prometheus scraping it every second with deploy/prometheus/alerts.yml loaded. Every
query of every dashboard panel and variable must return data, on the idle worker and after
articles (a duplicate and bad input among them) went through; the alert rules must load and
evaluate; the worker's exposition must pass `promtool check metrics`."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline import DATA_DIR
from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker, free_port, stop_process, wait_for_port
from pipeline.transport.client import push
from tests.conftest import FIXTURES, WorkerProcess, embedded_settings
from tests.deploy.helpers import (
    ALERTS,
    label_values_as_promql,
    load_dashboard,
    match_everything,
    panel_queries,
    require_binary,
    substitute,
    variable_queries,
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
Result = list[dict[str, Any]]


@dataclass(frozen=True)
class Query:
    """One query of the dashboard, as Prometheus receives it."""

    name: str
    promql: str
    label: str | None = None  # for a variable: the label whose values it offers


@dataclass
class Stack:
    settings: Settings
    prometheus: str
    idle: dict[Query, Result]
    busy: dict[Query, Result]


def dashboard_queries() -> list[Query]:
    dashboard = load_dashboard()
    everything = match_everything(dashboard)
    queries = [
        Query(f"panel {name}", substitute(expr, everything))
        for name, expr in panel_queries(dashboard)
    ]
    for name, definition in variable_queries(dashboard):
        promql, label = label_values_as_promql(substitute(definition, everything))
        queries.append(Query(f"variable {name}", promql, label))
    return queries


def api(prometheus: str, path: str, **params: str) -> Any:
    url = f"{prometheus}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    return body["data"]


def query(prometheus: str, promql: str) -> Result:
    data = api(prometheus, "/api/v1/query", query=promql)
    assert data["resultType"] == "vector", (promql, data)
    result: Result = data["result"]
    return result


def has_data(q: Query, result: Result) -> bool:
    if q.label is not None:
        return any(series["metric"].get(q.label) for series in result)
    return bool(result)


def has_number(result: Result) -> bool:
    return any(math.isfinite(float(series["value"][1])) for series in result)


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, worker: WorkerProcess
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.alive, f"the worker died while waiting for {what}:\n{worker.log()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def snapshot(
    prometheus: str,
    queries: list[Query],
    done: Callable[[Query, Result], bool],
    timeout: float,
    worker: WorkerProcess,
) -> dict[Query, Result]:
    """Every query's result, taken again until ``done`` holds for each or ``timeout`` ends."""
    deadline = time.monotonic() + timeout
    while True:
        results = {q: query(prometheus, q.promql) for q in queries}
        if all(done(q, r) for q, r in results.items()) or time.monotonic() > deadline:
            return results
        assert worker.alive, worker.log()[-3000:]
        time.sleep(1)


def start_prometheus(
    binary: str, directory: Path, target: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [{"job_name": "mediamon", "static_configs": [{"targets": [target]}]}],
    }
    config_file = directory / "prometheus.yml"
    config_file.write_text(json.dumps(config))  # JSON is YAML
    with (directory / "prometheus.log").open("ab") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={directory / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    if not (wait_for_port("127.0.0.1", port, 30) and _ready(url, 30)):
        process.kill()
        process.wait()
        raise RuntimeError((directory / "prometheus.log").read_text()[-3000:])
    return process, url


def _ready(url: str, timeout: float) -> bool:
    """Whether Prometheus answers ``/-/ready`` (it listens before its storage is open)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:  # URLError and HTTPError (503 while starting) included
            pass
        time.sleep(0.2)
    return False


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
    promtool = require_binary("promtool", "prometheus")
    url = f"http://127.0.0.1:{stack.settings.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        exposition = response.read()
    assert b"mediamon_messages_consumed_total" in exposition
    result = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, timeout=60
    )
    problems = (result.stdout + result.stderr).decode().strip()
    assert result.returncode == 0, problems
    assert problems == ""


def _timestamp(text: str) -> datetime:
    """An RFC 3339 time from Prometheus (nanoseconds, ``Z``) as an aware datetime."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return datetime.fromisoformat(text)
