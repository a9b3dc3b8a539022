"""The deployment files are valid and agree with each other and with the worker: Prometheus's
configuration and alert rules (checked and unit-tested by promtool), the docker-compose stack
(parsed by docker-compose), the Grafana provisioning and dashboard, and the Dockerfile."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipeline.metrics import Metrics
from pipeline.settings import Settings
from pipeline.transport.broker import free_port
from tests.deploy.helpers import (
    ALERTS,
    DATASOURCE_UID,
    DEPLOY,
    FEEDS_DASHBOARD,
    PROMETHEUS_DIR,
    REPO,
    label_values_as_promql,
    load_dashboard,
    load_yaml,
    panel_queries,
    panels,
    require_binary,
    variable_queries,
)

pytestmark = pytest.mark.integration

COMPOSE = REPO / "docker-compose.yml"
DATASOURCE = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
PROVIDER = DEPLOY / "grafana" / "provisioning" / "dashboards" / "mediamon.yml"
TOPICS = ("articles.raw", "articles.enriched", "articles.deadletter")


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=120, cwd=REPO, **kwargs
    )


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_binary("promtool", "prometheus")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    config: dict[str, Any] = load_yaml(COMPOSE)
    return config


def alert_rules() -> list[dict[str, Any]]:
    groups = load_yaml(ALERTS)["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


# Prometheus


def test_prometheus_config_is_valid(promtool: str) -> None:
    result = run([promtool, "check", "config", str(PROMETHEUS_DIR / "prometheus.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid prometheus config file syntax" in result.stdout + result.stderr


def test_alert_rules_are_valid(promtool: str) -> None:
    result = run([promtool, "check", "rules", str(ALERTS)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_alert_rules_fire_in_the_situations_they_name_and_stay_quiet_when_healthy(
    promtool: str,
) -> None:
    result = run([promtool, "test", "rules", str(PROMETHEUS_DIR / "alerts.test.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_severity_a_summary_a_description_and_a_firing_unit_test() -> None:
    tests = load_yaml(PROMETHEUS_DIR / "alerts.test.yml")["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "MediamonWorkerDown",
        "MediamonNoThroughput",
        "MediamonConsumerLagGrowing",
        "MediamonDeadLetterRateHigh",
    }
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["description"].strip(), rule["alert"]
        assert rule["alert"] in fired, f"{rule['alert']} has no unit test in which it fires"


def test_prometheus_scrapes_every_worker_of_the_compose_service(compose: dict[str, Any]) -> None:
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert config["rule_files"] == ["alerts.yml"]
    (discovery,) = jobs["mediamon"]["dns_sd_configs"]
    assert discovery["type"] == "A"
    assert discovery["names"] == ["worker"]
    assert "worker" in compose["services"]
    port = int(compose["services"]["worker"]["environment"]["MEDIAMON_METRICS_PORT"])
    assert discovery["port"] == port == 9108
    exporter = jobs["kafka-exporter"]["static_configs"][0]["targets"]
    assert exporter == ["kafka-exporter:9308"]
    assert "kafka-exporter" in compose["services"]
    assert "prometheus" in jobs


_SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "info": ("_info",),
}


def test_alerts_and_dashboard_name_only_metrics_the_worker_exports() -> None:
    exported: set[str] = set()
    for family in Metrics(model="m").registry.collect():  # labelled gauges too, while unset
        suffixes = _SAMPLE_SUFFIXES.get(family.type, ("",))
        exported.update(family.name + suffix for suffix in suffixes)
    dashboards = [load_dashboard(), load_dashboard(FEEDS_DASHBOARD)]
    text = ALERTS.read_text() + "\n".join(
        expr for dashboard in dashboards for _, expr in panel_queries(dashboard)
    )
    named = set(re.findall(r"\b(?:mediamon|process)_\w+", text))
    assert named, "no metric found in the alerts and the dashboard"
    assert named <= exported, f"not exported by the worker: {sorted(named - exported)}"


# docker-compose


def test_compose_file_is_valid() -> None:
    docker_compose = require_binary("docker-compose", "docker-compose")
    result = run([docker_compose, "-f", str(COMPOSE), "config", "-q"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert worker["build"] == "."
    assert "container_name" not in worker
    assert "ports" not in worker, "a fixed host port stops `--scale worker=N`"
    environment = worker["environment"]
    assert environment["MEDIAMON_BROKER"] == "kafka://kafka:9092"
    assert environment["MEDIAMON_CREATE_TOPICS"] == "false"
    assert Settings(broker=environment["MEDIAMON_BROKER"]).bootstrap_servers == ["kafka:9092"]


def test_kafka_init_creates_the_topics_before_any_worker_starts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    kafka = services["kafka"]["environment"]
    assert str(kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]) == "false"
    assert "broker" in kafka["KAFKA_PROCESS_ROLES"]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"]
    assert kafka["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    worker = services["worker"]["environment"]
    largest_input = int(worker.get("MEDIAMON_MAX_MESSAGE_BYTES", Settings().max_message_bytes))
    largest_output = 2 * largest_input  # what the worker's producer may send
    assert int(kafka["KAFKA_MESSAGE_MAX_BYTES"]) >= largest_output
    assert int(kafka["KAFKA_REPLICA_FETCH_MAX_BYTES"]) >= largest_output
    assert "kafka-topics.sh" in " ".join(services["kafka"]["healthcheck"]["test"])

    init = services["kafka-init"]
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    script = "\n".join(init["command"])
    partitions = int(services["worker"]["environment"]["MEDIAMON_PARTITIONS"])
    assert partitions == 8
    assert "--if-not-exists" in script
    assert f"--partitions {partitions}" in script
    for topic in TOPICS:
        assert topic in script
    limits = [int(limit) for limit in re.findall(r"max\.message\.bytes=(\d+)", script)]
    assert limits, "the topics keep the 1 MB default message limit"
    assert min(limits) >= largest_output
    assert Settings().topic_raw in script
    assert f"{Settings().app_id}-__assignor-__leader" in script
    assert services["worker"]["depends_on"]["kafka-init"]["condition"] == (
        "service_completed_successfully"
    )


def test_grafana_password_comes_from_the_environment_with_a_non_default_fallback(
    tmp_path: Path,
) -> None:
    docker_compose = require_binary("docker-compose", "docker-compose")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")}
    for password in (None, "from-the-env"):
        env = (
            environment if password is None else {**environment, "GRAFANA_ADMIN_PASSWORD": password}
        )
        result = run([docker_compose, "-f", str(COMPOSE), "config"], env=env)
        assert result.returncode == 0, result.stderr
        resolved = tmp_path / "resolved.yml"
        resolved.write_text(result.stdout)
        grafana = load_yaml(resolved)["services"]["grafana"]["environment"]
        expected = password or "mediamon-change-me"
        assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == expected
        assert grafana["GF_SECURITY_ADMIN_PASSWORD"] != "admin"
        assert str(grafana["GF_AUTH_ANONYMOUS_ENABLED"]) == "false"


# Grafana


def test_dashboard_panels_and_variables_all_use_the_provisioned_datasource() -> None:
    (datasource,) = load_yaml(DATASOURCE)["datasources"]
    assert datasource["uid"] == DATASOURCE_UID
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"

    dashboard = load_dashboard()
    assert dashboard["uid"] == "mediamon"
    assert dashboard["schemaVersion"] >= 39
    graph_panels = [panel for panel in panels(dashboard) if panel["type"] != "row"]
    assert len(graph_panels) >= 12
    for panel in graph_panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}, panel
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == datasource["uid"], panel["title"]
    for variable in dashboard["templating"]["list"]:
        assert variable["datasource"]["uid"] == datasource["uid"], variable["name"]


def test_every_dashboard_query_and_variable_is_non_empty() -> None:
    dashboard = load_dashboard()
    queries = panel_queries(dashboard)
    assert queries
    for title, expr in queries:
        assert expr.strip(), f"panel {title} has an empty query"
    variables = dict(variable_queries(dashboard))
    assert variables["instance"] == "label_values(mediamon_build_info, instance)"
    assert set(variables) >= {"instance", "topic"}
    for name, query in variables.items():
        assert query.strip(), f"variable {name} has an empty query"
        label_values_as_promql(query)  # each is a label_values() query the tests can run


def test_the_feeds_dashboard_shows_every_feed_metric_through_the_datasource() -> None:
    dashboard = load_dashboard(FEEDS_DASHBOARD)
    assert dashboard["uid"] == "mediamon-feeds"
    queries = "\n".join(expr for _, expr in panel_queries(dashboard))
    feed_metrics = [
        family.name
        for family in Metrics().registry.collect()
        if family.name.startswith("mediamon_feed")
    ]
    assert len(feed_metrics) == 9
    assert [name for name in feed_metrics if name not in queries] == []
    for panel in panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}, panel
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
    variables = dict(variable_queries(dashboard))
    assert set(variables) == {"instance", "feed"}
    for query in variables.values():
        label_values_as_promql(query)


def test_prometheus_scrapes_the_feed_reader_of_the_compose_service(
    compose: dict[str, Any],
) -> None:
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    (discovery,) = jobs["mediamon-feeds"]["dns_sd_configs"]
    assert discovery["names"] == ["feeds"]
    feeds = compose["services"]["feeds"]
    assert feeds["command"] == ["feeds", "run"]
    port = int(feeds["environment"]["MEDIAMON_FEEDS_METRICS_PORT"])
    assert discovery["port"] == port == int(feeds["environment"]["MEDIAMON_METRICS_PORT"])


def test_dashboard_shows_every_metric_family_of_the_worker() -> None:
    queries = "\n".join(expr for _, expr in panel_queries(load_dashboard()))
    for metric in (
        "mediamon_messages_consumed_total",
        "mediamon_events_published_total",
        "mediamon_end_to_end_latency_seconds_bucket",
        "mediamon_consumer_lag",
        "mediamon_deadletters_total",
        "mediamon_duplicates_total",
        "mediamon_stage_seconds_bucket",
        "mediamon_batch_seconds_bucket",
        "mediamon_batch_size_bucket",
        "mediamon_table_entries",
        "mediamon_build_info",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
    ):
        assert metric in queries, metric
    for since in ("ingest", "publication"):
        assert f'since="{since}"' in queries


def test_grafana_loads_the_dashboards_folder_compose_mounts(compose: dict[str, Any]) -> None:
    (provider,) = load_yaml(PROVIDER)["providers"]
    assert provider["type"] == "file"
    grafana = compose["services"]["grafana"]
    mounts = dict(_mount(volume) for volume in grafana["volumes"])
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/mediamon.json"
    prometheus = compose["services"]["prometheus"]
    assert dict(_mount(v) for v in prometheus["volumes"])["./deploy/prometheus"] == (
        "/etc/prometheus"
    )
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]


def _mount(volume: str) -> tuple[str, str]:
    source, target, *_ = volume.split(":")
    return source, target


# Dockerfile


class _Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/metrics" else 404)
        self.end_headers()
        self.wfile.write(b"up 1\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def metrics_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_dockerfile_runs_the_worker_unprivileged_with_a_metrics_healthcheck(
    metrics_server: int,
) -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    instructions = _instructions(dockerfile)
    assert instructions["FROM"][0].startswith("python:3.11-slim")
    assert instructions["USER"][-1] not in {"root", "0"}
    assert instructions["EXPOSE"] == ["9108"]
    assert json.loads(instructions["ENTRYPOINT"][-1]) == ["mediamon"]
    assert json.loads(instructions["CMD"][-1]) == ["worker"]
    assert (REPO / ".dockerignore").exists()

    (healthcheck,) = instructions["HEALTHCHECK"]
    probe = json.loads(healthcheck.split("CMD", 1)[1])
    assert probe[:2] == ["python", "-c"]
    command = [sys.executable, *probe[1:]]
    healthy = run(command, env={**os.environ, "MEDIAMON_METRICS_PORT": str(metrics_server)})
    assert healthy.returncode == 0, healthy.stderr
    down = run(command, env={**os.environ, "MEDIAMON_METRICS_PORT": str(free_port())})
    assert down.returncode != 0


def test_the_image_build_copies_the_files_the_wheel_needs() -> None:
    """The wheel's metadata names the README and the license files: the build stage copies
    them, and .dockerignore lets them into the build context."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    needed = [project["readme"], *project["license-files"]]
    copied = _instructions((REPO / "Dockerfile").read_text())["COPY"][0].split()[:-1]
    allowed = (REPO / ".dockerignore").read_text().splitlines()
    assert [name for name in needed if name not in copied or f"!{name}" not in allowed] == []
    assert all((REPO / name).is_file() for name in needed)


def _instructions(dockerfile: str) -> dict[str, list[str]]:
    """The Dockerfile's instructions (continuation lines joined), by keyword, in order."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    found: dict[str, list[str]] = {}
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.setdefault(keyword.upper(), []).append(rest.strip())
    return found
