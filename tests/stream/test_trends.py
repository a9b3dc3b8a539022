"""Trends in the stream: the real worker (one, then two sharing the work) against the real
embedded broker counts entities and tags per window, publishes trend records, exports its top
terms as metrics, and `mediamon trends` lists them."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pipeline.models import EnrichedEvent, Entity, EntityType, Source, Topic, Trend, encode
from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker, free_port
from pipeline.transport.client import push, tail
from tests.conftest import WorkerProcess, embedded_settings, read_outputs, settings_env

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """The test's own settings, with a trends topic of its own and quick publication."""
    base = embedded_settings(broker, tmp_path / "data")
    return base.model_copy(
        update={
            "topic_trends": base.topic_raw.removesuffix(".raw") + ".trends",
            "trends_publish_interval_s": 0.5,
            "trends_top_n": 3,
        }
    )


EDGE_MARGIN_S = 120  # longer than the longest test here (a worker restart: ~20 s)


@pytest.fixture(autouse=True)
def clear_of_the_window_edge(settings: Settings) -> None:
    """Start each test well inside a trend window: the tests stamp their articles with the
    present and read the current window's counts and gauges, which would be empty if the
    window changed in between (a run near the top of the hour once failed so)."""
    left = settings.trends_window_s - time.time() % settings.trends_window_s
    if left < EDGE_MARGIN_S:
        time.sleep(left + 1)


def story(slug: str, title: str, body: str) -> bytes:
    return orjson.dumps(
        {"url": f"https://www.example-tribune.com/world/{slug}", "title": title, "body": body}
    )


NORWAY = [
    story(
        "fjord-ferry",
        "Electric ferry enters service on a western fjord",
        "Norway put its largest battery-powered ferry into service on Monday. The vessel carries"
        " two hundred cars between two villages and charges at each quay in ten minutes. Local"
        " shipbuilders said orders from abroad had doubled since the trials began last spring.",
    ),
    story(
        "salmon-exports",
        "Salmon exports reach a record in the third quarter",
        "Seafood sales abroad rose by a fifth, the export council of Norway reported. Demand from"
        " restaurants in Japan and South Korea drove the increase, while prices at the Bergen"
        " auction eased slightly after a warm summer cut the growth of farmed fish.",
    ),
    story(
        "arctic-research",
        "New polar research station opens on Svalbard",
        "Scientists from eleven countries will share a laboratory that Norway opened this week on"
        " the archipelago. The station measures sea ice, permafrost and the migration of"
        " reindeer, and its director hopes to publish the first open data sets before winter.",
    ),
    story(
        "wealth-fund",
        "Sovereign wealth fund reports a half-year gain",
        "The oil fund reported a gain of eight percent for the first half, its managers said in"
        " Oslo. Technology shares did most of the work. Norway saves the state's petroleum income"
        " in the fund, which now owns about one and a half percent of all listed companies.",
    ),
    story(
        "ski-jump",
        "Ski-jumping hill reopens after a two-year rebuild",
        "Crowds returned to the rebuilt jumping hill outside Lillehammer on Saturday. Athletes"
        " from Norway, Austria and Slovenia tested the new inrun, which organisers say is safer in"
        " crosswinds, ahead of the World Cup meeting planned there for March.",
    ),
]
CHILE = [
    story(
        "lithium-mine",
        "Lithium producer signs a partnership with the state",
        "Chile agreed the terms of a joint venture for the salt flats of the Atacama desert, the"
        " mining ministry announced. The deal keeps production under public control until 2060"
        " and shares the royalties with the indigenous communities of the region.",
    ),
    story(
        "observatory",
        "Astronomers release the first images of a new telescope",
        "An observatory high in the Andes of Chile published its first survey images, showing"
        " millions of galaxies. Engineers spent a decade grinding the mirrors, and the camera is"
        " the size of a small car, the consortium's director told journalists.",
    ),
]
SCORES = story(
    "scores",
    "2:1 (1:0)",
    "1:0 (0:0) 2:1 3:3 (1:2) 0:2 1:1 4:2 (2:0) 3:0 2:2 1:3 (0:1) 5:1 2:0.",
)
"""A table of scores: no language to detect, so not enriched."""


def scrape(settings: Settings) -> list[tuple[str, dict[str, str], float]]:
    """The worker's mediamon_* samples: (name, labels, value); none while it does not answer."""
    url = f"http://127.0.0.1:{settings.metrics_port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return []
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        if family.name.startswith("mediamon_")
        for sample in family.samples
    ]


def ranked(samples: list[tuple[str, dict[str, str], float]], kind: str) -> list[tuple[str, float]]:
    """``(id, count)`` of the top-N gauges of ``kind``, by rank; empty ranks as ``("", 0)``."""
    ranks = {
        int(labels["rank"]): (labels["id"], value)
        for name, labels, value in samples
        if name == "mediamon_trend_top_articles" and labels["kind"] == kind
    }
    return [ranks[rank] for rank in sorted(ranks)]


def counts(records: list[Trend], kind: str) -> dict[str, int]:
    """Articles per term over every window, from the latest record of each (term, window)."""
    latest: dict[tuple[str, datetime], Trend] = {}
    for record in records:
        key = (record.id, record.window_start)
        if record.kind == kind and (
            key not in latest or record.updated_at >= latest[key].updated_at
        ):
            latest[key] = record
    totals: dict[str, int] = {}
    for (term_id, _), record in latest.items():
        totals[term_id] = totals.get(term_id, 0) + record.count
    return totals


def trend_records(settings: Settings) -> list[Trend]:
    values = tail(settings, [settings.topic_trends], from_beginning=True, idle_timeout=1.5)
    return [Trend.model_validate_json(value) for value in values]


def wait_for(what: str, check: Callable[[], bool], workers: list[WorkerProcess]) -> None:
    deadline = time.monotonic() + 90
    while not check():
        for worker in workers:
            assert worker.alive, f"worker died waiting for {what}:\n{worker.log()[-3000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_an_entity_named_by_more_articles_ranks_first_in_records_and_metrics(
    settings: Settings, worker: WorkerProcess
) -> None:
    first = orjson.loads(NORWAY[0])
    copy = orjson.dumps(first | {"url": "https://news.example.org/syndicated/fjord-ferry"})
    push(settings, [*NORWAY, *CHILE, copy, SCORES])
    events = read_outputs(settings, len(NORWAY) + len(CHILE) + 2)
    assert sum(1 for e in events if e["duplicate_of"]) == 1
    assert sum(1 for e in events if not e["enriched"]) == 1

    found: dict[str, int] = {}

    def counted() -> bool:
        found.update(counts(trend_records(settings), "entity"))
        return found.get("Q20", 0) >= len(NORWAY) and found.get("Q298", 0) >= len(CHILE)

    wait_for("Norway and Chile counted", counted, [worker])
    assert found["Q20"] == len(NORWAY)  # Norway: once per article, the syndicated copy not
    assert found["Q298"] == len(CHILE)  # Chile
    assert max(n for term, n in found.items() if term != "Q20") < len(NORWAY)

    samples = scrape(settings)
    top = ranked(samples, "entity")
    assert len(top) == settings.trends_top_n
    assert top[0] == ("Q20", len(NORWAY))
    assert [n for _, n in top] == sorted((n for _, n in top), reverse=True)
    outcomes = {
        labels["outcome"]: value
        for name, labels, value in samples
        if name == "mediamon_trend_articles_total"
    }
    assert outcomes == {
        "counted": len(NORWAY) + len(CHILE),
        "duplicate": 1,
        "not_enriched": 1,
        "invalid": 0,
    }


def event(number: int, tags: list[str], ingested: datetime, **fields: Any) -> bytes:
    """An enriched event as the enrich agent publishes it, with the given topic tags."""
    body = f"Story number {number} about Norway."
    return encode(
        EnrichedEvent(
            id=f"story-{number}",
            url=None,
            source=Source(),
            title=f"Story {number}",
            authors=[],
            published_at=None,
            ingested_at=ingested,
            processed_at=ingested,
            language="en",
            enriched=True,
            body=body,
            word_count=5,
            content_hash=f"{number:064x}",
            duplicate_of=None,
            entities=[
                Entity(id="Q20", name="Norway", type=EntityType.LOC, salience=1.0, mentions=[])
            ],
            quotes=[],
            stances=[],
            topics=[Topic(id=t, label=t.title(), scheme="mediamon", score=1.0) for t in tags],
            places=["NO"],
        ).model_copy(update=fields)
    )


def test_tags_late_counts_and_skipped_records_from_the_enriched_topic_and_the_command(
    settings: Settings, worker: WorkerProcess
) -> None:
    now = datetime.now(UTC)
    records = [
        event(1, ["tag:a", "tag:b", "tag:c"], now),
        event(2, ["tag:a", "tag:b"], now),
        event(3, ["tag:a", "tag:b"], now),
        event(4, ["tag:a"], now),
        event(5, ["tag:a", "tag:a"], now),  # one article: counts once
        event(6, ["tag:c", "tag:d"], now - timedelta(days=3)),  # beyond the 1-day expiry
        event(7, ["tag:a"], now, duplicate_of="story-1"),
        event(8, ["tag:a"], now, enriched=False),
        b"not an event",
    ]
    push(settings, records, topic=settings.topic_enriched)

    wait_for(
        "tag:a counted", lambda: counts(trend_records(settings), "tag").get("tag:a") == 5, [worker]
    )
    tags = counts(trend_records(settings), "tag")
    assert tags == {"tag:a": 5, "tag:b": 3, "tag:c": 1}  # the late tag:d never appears
    samples = scrape(settings)
    assert ranked(samples, "tag") == [("tag:a", 5.0), ("tag:b", 3.0), ("tag:c", 1.0)]
    late = {
        labels["kind"]: value
        for name, labels, value in samples
        if name == "mediamon_trend_late_total"
    }
    # story 6's two tags and its entity; every kind's series starts at zero
    assert late == {"tag": 2.0, "entity": 1.0, "location": 0.0}
    outcomes = {
        labels["outcome"]: value
        for name, labels, value in samples
        if name == "mediamon_trend_articles_total"
    }
    assert outcomes == {"counted": 6, "duplicate": 1, "not_enriched": 1, "invalid": 1}

    command = [sys.executable, "-m", "pipeline", "trends", "--kind", "tag"]
    env = settings_env(settings)
    listed = subprocess.run(
        [*command, "--json"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    rows = [Trend.model_validate_json(line) for line in listed.stdout.splitlines()]
    assert [(r.id, r.count) for r in rows] == [("tag:a", 5), ("tag:b", 3), ("tag:c", 1)]
    assert all(r.baseline_mean == 0 and r.burst == r.count for r in rows)  # nothing before
    table = subprocess.run(
        [*command, "--top", "2"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert "Top tags by count" in table.stdout
    assert "Tag:A" in table.stdout
    assert "Tag:B" in table.stdout
    assert "Tag:C" not in table.stdout


@pytest.mark.alone
def test_counts_survive_a_worker_restart(settings: Settings, worker: WorkerProcess) -> None:
    now = datetime.now(UTC)
    push(settings, [event(n, ["tag:r"], now) for n in range(1, 4)], topic=settings.topic_enriched)
    wait_for("3 counted", lambda: counts(trend_records(settings), "tag") == {"tag:r": 3}, [worker])
    assert worker.stop() == 0, worker.log()

    worker.start()  # the table comes back from its changelog
    push(settings, [event(n, ["tag:r"], now) for n in range(4, 6)], topic=settings.topic_enriched)
    wait_for("5 counted", lambda: counts(trend_records(settings), "tag") == {"tag:r": 5}, [worker])
    assert ranked(scrape(settings), "tag")[0] == ("tag:r", 5.0)


def test_two_workers_share_the_terms_and_count_each_exactly_once(
    settings: Settings, worker: WorkerProcess, tmp_path: Path
) -> None:
    other = settings.model_copy(update={"metrics_port": free_port()})
    second = WorkerProcess(other, tmp_path / "second.log")
    second.start()
    try:
        share_and_count(settings, [worker, second])
    finally:
        second.stop()


def share_and_count(settings: Settings, workers: list[WorkerProcess]) -> None:
    def both_assigned() -> bool:  # each worker reports lag for the ingest partition it holds
        return all(
            any(name == "mediamon_consumer_lag" for name, _, _ in scrape(w.settings))
            for w in workers
        )

    wait_for("both workers to hold a partition", both_assigned, workers)
    now = datetime.now(UTC)
    expected = {f"tag:t{i:02d}": i for i in range(1, 13)}  # tag:tN named by N articles
    records = [
        event(n, [tag for tag, times in expected.items() if times >= n], now) for n in range(1, 13)
    ]
    push(settings, records, topic=settings.topic_enriched)

    wait_for(
        "every tag counted",
        lambda: counts(trend_records(settings), "tag") == expected,
        workers,
    )
    shown = [{term: n for term, n in ranked(scrape(w.settings), "tag") if term} for w in workers]
    assert all(shown), f"one worker counted nothing: {shown}"
    assert not set(shown[0]) & set(shown[1]), "a tag counted by both workers"
    union = {**shown[0], **shown[1]}
    best = sorted(expected, key=lambda tag: -expected[tag])[: settings.trends_top_n]
    assert set(best) <= set(union)  # the global top N is within the workers' top N
    assert all(union[term] == expected[term] for term in union)
