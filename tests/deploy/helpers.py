"""What the deployment tests share: the files under deploy/, the dashboard's queries with
Grafana's template variables filled in, and the external tools (promtool, prometheus,
docker-compose) they run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "mediamon.json"
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


def load_dashboard() -> dict[str, Any]:
    """The provisioned Grafana dashboard."""
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
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
