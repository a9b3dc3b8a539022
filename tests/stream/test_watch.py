"""Watch rules and alerts with the real worker and the real embedded broker: rules added and
removed with `mediamon watch` while the worker runs, rules from the start-up file, bad records on
the watch topic, and the alerts on the alerts topic."""

from __future__ import annotations

import json
import signal
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from typer.testing import CliRunner, Result

from pipeline.cli import app
from pipeline.models import Alert, EnrichedEvent
from pipeline.settings import Settings
from pipeline.transport.client import connection_options, ensure_topics, push
from tests.conftest import WorkerProcess, read_outputs
from tests.faults.conftest import Reader, wait_until
from tests.faults.payloads import generate_articles

pytestmark = pytest.mark.integration


def article(slug: str, title: str, text: str) -> bytes:
    """An invented story as a JSON article."""
    return json.dumps(
        {
            "url": f"https://news.example.org/2026/05/04/{slug}",
            "title": title,
            "published_at": "2026-05-04T09:00:00Z",
            "text": text,
        }
    ).encode()


GRAIN_TALKS = article(
    "grain-talks",
    "Grain talks resume in Geneva",
    "Russian and American negotiators met in Geneva on Monday to resume talks on grain exports."
    '\n\n"We are ready to discuss shipping schedules with the United States," Vladimir Putin'
    " said in a statement on Monday.\n\nThe talks will continue on Wednesday, officials said.",
)
FERRY_TALKS = article(
    "ferry-talks",
    "Ferry talks planned for June",
    "Negotiators will meet in Vienna in June to discuss a ferry service across the Black Sea."
    '\n\n"We will talk to the United States about insurance first," Vladimir Putin told'
    " reporters on Friday.\n\nNo date has been set for the first crossing.",
)
FESTIVAL = article(
    "harbour-festival",
    "Harbour festival draws record crowds",
    "The harbour festival in Bergen drew a record 80,000 visitors on Sunday, organisers said."
    '\n\n"The weather was on our side," said Ingrid Solberg, the festival director.'
    "\n\nThe event returns next June.",
)
PUTIN_ON_US = """
id: putin-on-us
description: Vladimir Putin quoted about the United States
quotes:
  - speaker: [Q7747]
    about: [United States]
"""
FESTIVAL_RULE = {"id": "festival", "entities": [{"any": ["Ingrid Solberg"]}]}


def mediamon(settings: Settings, *args: str, stdin: str | None = None) -> Result:
    """Run the command line in-process with ``settings`` as its environment."""
    return CliRunner().invoke(app, list(args), input=stdin, env=settings.as_env())


def metric(settings: Settings, name: str) -> float | None:
    """A sample of the worker's /metrics, None while the worker does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{settings.metrics_port}/metrics") as r:
            text = r.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return None


def wait_for_metric(settings: Settings, name: str, value: float, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while (seen := metric(settings, name)) != value:
        assert time.monotonic() < deadline, f"{name} is {seen}, not {value}"
        time.sleep(0.2)


class Topics:
    """Record counts of the test's topics and the worker group's progress on the enriched one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.consumer = KafkaConsumer(**connection_options(settings), enable_auto_commit=False)
        self.admin = KafkaAdminClient(**connection_options(settings))

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()

    def _partitions(self, topic: str) -> list[TopicPartition]:
        return [TopicPartition(topic, p) for p in range(self.settings.partitions)]

    def count(self, topic: str) -> int:
        """Records in ``topic`` (the worker and `push` write one record per batch, for which the
        embedded broker's end offsets are right)."""
        return sum(self.consumer.end_offsets(self._partitions(topic)).values())

    def wait_until_matched(self, events: int, timeout: float = 120) -> None:
        """Until the enriched topic holds at least ``events`` and the worker's group has
        committed them all: the alert agent commits an event only once its alerts are
        acknowledged."""
        group = self.settings.app_id
        enriched = self._partitions(self.settings.topic_enriched)
        deadline = time.monotonic() + timeout
        while True:
            end = sum(self.consumer.end_offsets(enriched).values())
            committed = self.admin.list_group_offsets({group: enriched}).get(group, {})
            done = sum(meta.offset for meta in committed.values() if meta.offset > 0)
            if end >= events and done == end:
                return
            assert time.monotonic() < deadline, f"{done} of {end} committed"
            time.sleep(0.5)


@pytest.fixture
def topics(settings: Settings) -> Any:
    reader = Topics(settings)
    yield reader
    reader.close()


def test_a_rule_added_to_a_running_worker_alerts_until_it_is_removed(
    settings: Settings, worker: WorkerProcess, topics: Topics
) -> None:
    added = mediamon(settings, "watch", "add", "-", stdin=PUTIN_ON_US)
    assert added.exit_code == 0, added.output
    assert added.output == "added putin-on-us\n"
    wait_for_metric(settings, "mediamon_watch_rules", 1)  # taken up without a restart

    push(settings, [GRAIN_TALKS, FESTIVAL])
    (raw_alert,) = read_outputs(settings, 1, topics=[settings.topic_alerts])
    topics.wait_until_matched(2)
    assert topics.count(settings.topic_enriched) == 2
    assert topics.count(settings.topic_alerts) == 1, "the festival story matched nothing"

    alert = Alert.model_validate(raw_alert)
    assert alert.rule_id == "putin-on-us"
    assert alert.rule_description == "Vladimir Putin quoted about the United States"
    assert alert.title == "Grain talks resume in Geneva"
    assert alert.url == "https://news.example.org/2026/05/04/grain-talks"
    events = [EnrichedEvent.model_validate(e) for e in read_outputs(settings, 2)]
    grain = next(e for e in events if e.id == alert.article_id)
    (evidence,) = alert.evidence
    assert evidence.condition == "quotes"
    assert evidence.quote is not None
    assert evidence.quote.speaker_id == "Q7747"
    assert grain.body[evidence.quote.start : evidence.quote.end] == evidence.quote.text
    assert evidence.entity is not None
    assert evidence.entity.id == "Q30"
    assert [grain.body[m.start : m.end] for m in evidence.mentions] == ["United States"]
    assert metric(settings, "mediamon_alerts_total") == 1

    tailed = mediamon(settings, "tail", "--topic", "alerts", "--from-beginning", "--max", "1")
    assert tailed.exit_code == 0, tailed.output
    assert json.loads(tailed.output)["rule_id"] == "putin-on-us"

    removed = mediamon(settings, "watch", "remove", "putin-on-us")
    assert removed.exit_code == 0, removed.output
    wait_for_metric(settings, "mediamon_watch_rules", 0)
    push(settings, [FERRY_TALKS])
    topics.wait_until_matched(3)
    assert topics.count(settings.topic_enriched) == 3
    assert topics.count(settings.topic_alerts) == 1, "an alert after the rule was removed"
    assert worker.alive, worker.log()


def test_rules_from_the_start_up_file_apply_and_bad_rules_never_stop_the_worker(
    settings: Settings, tmp_path: Path, topics: Topics
) -> None:
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(json.dumps([FESTIVAL_RULE, {"id": "no-conditions"}]))
    settings = settings.model_copy(update={"watch_file": rule_file})
    ensure_topics(settings)
    bad = [b"not json", json.dumps(FESTIVAL_RULE | {"id": "another"}).encode()]
    push(settings, bad, settings.topic_watch, keys=[b"junk", b"mismatch"])
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    worker.start()
    try:
        wait_for_metric(settings, "mediamon_watch_rules", 1)
        push(settings, [FESTIVAL, GRAIN_TALKS])
        (alert,) = read_outputs(settings, 1, topics=[settings.topic_alerts])
        topics.wait_until_matched(2)
        assert topics.count(settings.topic_alerts) == 1
        assert worker.alive
    finally:
        worker.stop()
    log = worker.log()
    assert alert["rule_id"] == "festival", log
    assert alert["title"] == "Harbour festival draws record crowds"
    assert "rule 2 (no-conditions): Value error, a rule needs at least one condition" in log
    assert "watch rule junk is not valid, skipped" in log
    assert "watch rule mismatch is not valid, skipped: its id is 'another', not its key" in log


@pytest.mark.alone
def test_a_worker_killed_while_it_alerts_loses_no_alert(
    settings: Settings, tmp_path: Path, topics: Topics
) -> None:
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text("id: english\nlanguage: [en]\n")
    settings = settings.model_copy(update={"watch_file": rule_file, "batch_size": 8})
    ensure_topics(settings)
    articles = generate_articles(200)
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    worker.start()
    try:
        push(settings, articles)
        wait_until(lambda: topics.count(settings.topic_alerts) >= 10, 120, "the first alerts")
        worker.stop(signal.SIGKILL)
        worker.start()
        topics.wait_until_matched(len(articles))
    finally:
        worker.stop()
    reader = Reader(settings, [settings.topic_enriched, settings.topic_alerts])
    try:
        outputs = reader.read_all()
    finally:
        reader.close()
    events = [o.value for o in outputs if o.topic == settings.topic_enriched]
    alerted = Counter(o.value["article_id"] for o in outputs if o.topic == settings.topic_alerts)
    english = {e["id"] for e in events if e["language"] == "en" and e["duplicate_of"] is None}
    assert len(english) == len(articles), worker.log()
    assert set(alerted) == english, "an article without its alert"
    repeated = sum(alerted.values()) - len(alerted)
    sys.stderr.write(f"{len(alerted)} articles alerted, {repeated} alerts repeated after a kill\n")


def test_the_watch_command_rejects_bad_rules_and_unknown_ids_and_lists_what_workers_apply(
    settings: Settings, tmp_path: Path
) -> None:
    ensure_topics(settings)
    bad = mediamon(settings, "watch", "add", "-", stdin="- id: a\n  entities: [{any: []}]\n")
    assert bad.exit_code == 2
    assert "invalid watch rules, none added" in bad.output
    assert "stdin: rule 1 (a): entities.0.any: List should have at least 1 item" in bad.output
    missing = mediamon(settings, "watch", "add", str(tmp_path / "nothing.yaml"))
    assert missing.exit_code == 2
    assert "cannot read" in missing.output

    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(json.dumps(FESTIVAL_RULE))
    settings = settings.model_copy(update={"watch_file": rule_file})
    assert mediamon(settings, "watch", "add", "-", stdin=PUTIN_ON_US).exit_code == 0
    listed = mediamon(settings, "watch", "list")
    assert listed.output.splitlines() == [
        "festival\tfile\t",
        "putin-on-us\ttopic\tVladimir Putin quoted about the United States",
    ]
    as_json = mediamon(settings, "watch", "list", "--json")
    assert [json.loads(line)["id"] for line in as_json.output.splitlines()] == [
        "festival",
        "putin-on-us",
    ]

    refused = mediamon(settings, "watch", "remove", "festival", "nope", "putin-on-us")
    assert refused.exit_code == 2
    assert f"festival comes from {rule_file}" in refused.output
    assert f"no rule nope in {settings.topic_watch}" in refused.output
    still = mediamon(settings, "watch", "list")
    assert "putin-on-us" in still.output, "a refused remove removes nothing"
    assert mediamon(settings, "watch", "remove", "putin-on-us").exit_code == 0
    assert mediamon(settings, "watch", "list").output == "festival\tfile\t\n"
