"""What the deployment tests share: the files under deploy/, the dashboards' queries with
Grafana's template variables filled in, the external tools (promtool, prometheus,
docker-compose) they run, and a real Prometheus to query."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.transport.broker import free_port, wait_for_port
from tests.conftest import WorkerProcess

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "mediamon.json"
FEEDS_DASHBOARD = DEPLOY / "grafana" / "dashboards" / "mediamon-feeds.json"
DATASOURCE_UID = "mediamon-prometheus"

# What Grafana puts in for its built-in variables, as a Prometheus test query needs them.
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<selector>.+),\s*)?(?P<label>\w+)\s*\)\s*$")


def require_binary(name: str, package: str) -> str:
    """The path of ``name``, or skip the test when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"`{name}` is not installed (Debian package {package}; .ci/run installs it)")
    return path


def load_dashboard(path: Path = DASHBOARD) -> dict[str, Any]:
    """A provisioned Grafana dashboard: the workers' (default) or the feed reader's."""
    dashboard: dict[str, Any] = json.loads(path.read_text())
    return dashboard


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """``(panel title, PromQL)`` for every target of every panel, rows' panels included."""
    queries = []
    for panel in _panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            queries.append((f"{panel['title']} [{target.get('refId')}]", target.get("expr", "")))
    return queries


def variable_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """``(variable name, query)`` for every query variable of the dashboard."""
    queries = []
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else query or ""
        queries.append((variable["name"], text))
    return queries


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel of ``dashboard``, those inside collapsed rows included."""
    return list(_panels(dashboard["panels"]))


def _panels(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for panel in items:
        found.append(panel)
        found.extend(_panels(panel.get("panels", [])))
    return found


def substitute(expr: str, variables: dict[str, str]) -> str:
    """``expr`` with ``$name``, ``${name}``, ``${name:format}`` and ``[[name]]`` replaced from
    ``variables`` and Grafana's built-ins; a variable neither knows raises ``KeyError``."""
    values = {**GRAFANA_BUILTINS, **variables}

    def replace(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        return values[name]

    return _VARIABLE.sub(replace, expr)


def match_everything(dashboard: dict[str, Any]) -> dict[str, str]:
    """Each template variable of ``dashboard`` set to a regex that matches every value, as
    the variable's "All" does."""
    return {variable["name"]: ".*" for variable in dashboard["templating"]["list"]}


def label_values_as_promql(query: str) -> tuple[str, str]:
    """A Grafana ``label_values([selector, ]label)`` query as ``(PromQL, label)``: an
    instant query with one series per value the variable would offer."""
    match = _LABEL_VALUES.match(query)
    if match is None:
        raise ValueError(f"not a label_values() query: {query!r}")
    label = match["label"]
    selector = match["selector"] or f'{{{label}!=""}}'
    return f"count by ({label}) ({selector})", label


def load_yaml(path: Path) -> Any:
    """``path`` parsed as YAML, by the Python that runs docker-compose (Debian's
    python3-yaml comes with it; the project's virtualenv has no YAML parser)."""
    compose = require_binary("docker-compose", "docker-compose")
    with open(compose, "rb") as script:
        first_line = script.readline(512)
    if not first_line.startswith(b"#!"):
        pytest.skip(f"{compose} is not a script, so no Python with a YAML parser comes with it")
    interpreter = first_line[2:].decode().split()
    command = [*interpreter, "-c", _YAML_TO_JSON, str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        pytest.skip(f"no YAML parser next to docker-compose: {result.stderr.strip()}")
    return json.loads(result.stdout)


_YAML_TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)"


# A real Prometheus

Result = list[dict[str, Any]]


@dataclass(frozen=True)
class Query:
    """One query of the dashboard, as Prometheus receives it."""

    name: str
    promql: str
    label: str | None = None  # for a variable: the label whose values it offers


def dashboard_queries(path: Path = DASHBOARD) -> list[Query]:
    """Every panel and variable query of the dashboard at ``path``, as Prometheus receives
    them with every variable at "All"."""
    dashboard = load_dashboard(path)
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
    binary: str, directory: Path, target: str, job: str = "mediamon"
) -> tuple[subprocess.Popen[bytes], str]:
    """Prometheus scraping ``target`` every second as ``job``, with the alert rules loaded."""
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target]}]}],
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


def exposition_problems(port: int) -> tuple[bytes, str]:
    """The /metrics exposition on ``port`` and what `promtool check metrics` says of it
    (nothing when it is clean; a non-zero exit adds its code)."""
    promtool = require_binary("promtool", "prometheus")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        exposition = response.read()
    result = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, timeout=60
    )
    problems = (result.stdout + result.stderr).decode().strip()
    if result.returncode != 0:
        problems += f" (exit {result.returncode})"
    return exposition, problems
