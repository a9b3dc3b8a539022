"""The feeds dashboard and the feed alert against the real thing: a feed reader (`mediamon feeds
run`) polling a local site into the embedded broker, and a real Prometheus scraping it every
second with deploy/prometheus/alerts.yml loaded. Once articles went through (one page refused
by robots.txt, one not HTML), every query of every panel and variable of the feeds dashboard
must return a number; the feed alert must evaluate and stay quiet; the exposition must pass
`promtool check metrics`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker, free_port, stop_process
from pipeline.transport.client import ensure_topics
from tests.conftest import FIXTURES, WorkerProcess, embedded_settings
from tests.deploy.helpers import (
    FEEDS_DASHBOARD,
    Query,
    Result,
    api,
    dashboard_queries,
    exposition_problems,
    has_number,
    query,
    require_binary,
    snapshot,
    start_prometheus,
    wait_for,
)
from tests.sites import Answer, serve_site

pytestmark = pytest.mark.integration

FEEDS = FIXTURES / "feeds"


@dataclass
class FeedStack:
    settings: Settings
    prometheus: str
    results: dict[Query, Result]


@pytest.fixture(scope="module")
def feed_stack(
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FeedStack]:
    binary = require_binary("prometheus", "prometheus")
    directory = tmp_path_factory.mktemp("feeds-prometheus")
    with serve_site() as site:
        site.serve("/rss.xml", FEEDS / "rss.xml", "application/rss+xml")
        site.serve("/news/ferry-timetable", FEEDS / "article.html", "text/html")
        site.routes["/news/fish-market?utm_source=rss"] = Answer(
            headers={"content-type": "application/pdf"}, body=b"%PDF"
        )
        listing = directory / "feeds.txt"
        listing.write_text(site.url("/rss.xml") + "\n")
        settings = embedded_settings(broker, directory / "data").model_copy(
            update={
                "feeds_file": listing,
                "feeds_allowed_networks": ["127.0.0.0/8"],
                "feeds_metrics_port": free_port(),
                "feeds_poll_min_s": 1.0,
                "feeds_poll_max_s": 2.0,
            }
        )
        ensure_topics(settings)
        reader = WorkerProcess(settings, directory / "feeds.log", ("feeds", "run"))
        reader.start()
        process: subprocess.Popen[bytes] | None = None
        try:
            process, prometheus = start_prometheus(
                binary, directory, f"127.0.0.1:{settings.feeds_metrics_port}", "mediamon-feeds"
            )
            wait_for(
                lambda: bool(query(prometheus, "sum(mediamon_feed_items_total) >= 1")),
                60,
                "Prometheus to count a feed article",
                reader,
            )
            queries = dashboard_queries(FEEDS_DASHBOARD)
            results = snapshot(prometheus, queries, lambda q, r: has_number(r), 30, reader)
            yield FeedStack(settings, prometheus, results)
        finally:
            if process is not None:
                stop_process(process)
            reader.stop()
            sys.stderr.write(f"--- feed reader log ---\n{reader.log()[-3000:]}\n")


def test_every_feeds_dashboard_query_shows_numbers(feed_stack: FeedStack) -> None:
    results = feed_stack.results
    assert len(results) == len(dashboard_queries(FEEDS_DASHBOARD)) >= 12
    without_number = [q.name for q, result in results.items() if not has_number(result)]
    assert without_number == []

    def series(title: str, label: str) -> set[str]:
        (q,) = [q for q in results if q.name.startswith(f"panel {title} [")]
        return {s["metric"][label] for s in results[q]}

    assert series("Fetch errors by reason", "reason") >= {"not_html"}
    assert series("Polls by outcome", "outcome") >= {"new", "unchanged"}


def test_the_feed_alert_is_evaluated_and_quiet(feed_stack: FeedStack) -> None:
    (group,) = api(feed_stack.prometheus, "/api/v1/rules")["groups"]
    (rule,) = [r for r in group["rules"] if r["name"] == "MediamonFeedSilent"]
    assert rule["health"] == "ok", rule
    firing = [
        a["labels"]["alertname"]
        for a in api(feed_stack.prometheus, "/api/v1/alerts")["alerts"]
        if a["state"] == "firing"
    ]
    assert "MediamonFeedSilent" not in firing


def test_feed_reader_metrics_pass_promtool_check_metrics(feed_stack: FeedStack) -> None:
    exposition, problems = exposition_problems(feed_stack.settings.feeds_metrics_port)
    assert b"mediamon_feed_polls_total" in exposition
    assert problems == ""
