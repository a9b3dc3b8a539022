"""Duplicate detection in the stream: state in a changelog-backed table that survives a
restart, and the optional duplicates topic."""

from __future__ import annotations

import json
import random
import re
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline import DATA_DIR
from pipeline.settings import Settings
from pipeline.transport.client import ensure_topics, push, tail
from tests.conftest import WorkerProcess, read_outputs

pytestmark = pytest.mark.integration

EXAMPLES = DATA_DIR / "examples" / "articles"
ORIGINAL = (EXAMPLES / "02-riksbank-holds-rate.json").read_bytes()
SYNDICATED = (EXAMPLES / "07-riksbank-holds-rate-syndicated.json").read_bytes()
WORDS = (
    "council", "harbour", "budget", "river", "school", "bridge", "court", "vote", "strike",
    "market", "energy", "wind", "solar", "housing", "rent", "transport", "airport", "rail",
    "hospital", "doctor", "nurse", "teacher", "farm", "harvest", "drought", "flood", "storm",
    "coast", "port", "ship", "cargo", "steel", "mine", "copper", "price", "wage", "pension",
    "tax", "reform", "election", "mayor", "minister", "union", "factory", "jobs", "export",
)  # fmt: skip


def story(number: int) -> bytes:
    """An English article of its own: words in an order no other story shares."""
    rng = random.Random(number)
    sentences = [" ".join(rng.sample(WORDS, 12)) for _ in range(4)]
    body = ". ".join(f"The {s} were discussed" for s in sentences) + "."
    return json.dumps({"title": f"Report {number}", "body": body}).encode()


def table_entries(settings: Settings) -> float | None:
    """The worker's ``mediamon_table_entries{table="dedup"}``, None while it does not answer."""
    try:
        url = f"http://127.0.0.1:{settings.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return None
    found = re.search(r'^mediamon_table_entries\{table="dedup"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else None


@pytest.mark.alone
def test_a_syndicated_copy_is_marked_after_the_worker_restarts(
    settings: Settings, worker: WorkerProcess
) -> None:
    # keyed to different partitions (kafka-python's murmur2 partitioner, two partitions): the
    # copy lands on a partition the group has never committed, pushed while the restarted
    # worker starts (Faust used to discard such a record fetched before it was ready and never
    # seek back to it)
    push(settings, [ORIGINAL], keys=[b"original"])
    (original,) = read_outputs(settings, 1)
    assert original["duplicate_of"] is None
    assert worker.stop() == 0, worker.log()

    worker.start()
    push(settings, [SYNDICATED], keys=[b"syndicated"])
    outputs = read_outputs(settings, 2)

    assert worker.alive, worker.log()
    copies = [o for o in outputs if o["id"] != original["id"]]
    assert copies, f"the copy was never processed: {len(outputs)} output(s)"
    assert copies[0]["title"] != original["title"]
    assert copies[0]["duplicate_of"] == original["id"]


def test_duplicates_can_be_routed_to_their_own_topic(tmp_path: Path, settings: Settings) -> None:
    dupes = settings.topic_raw + ".duplicates"
    routed = settings.model_copy(update={"topic_duplicates": dupes})
    ensure_topics(routed)
    worker = WorkerProcess(routed, tmp_path / "routed.log")
    worker.start()
    try:
        push(routed, [ORIGINAL, SYNDICATED])
        (original,) = read_outputs(routed, 1)
        (copy,) = read_outputs(routed, 1, topics=[dupes])
    finally:
        worker.stop()
    assert original["duplicate_of"] is None
    assert copy["duplicate_of"] == original["id"]


def test_every_article_is_counted_once_and_journaled_once(
    tmp_path: Path, settings: Settings
) -> None:
    """The duplicate table reads its own writes back from the changelog, some after later
    writes: the index still counts each article once, and writes one record per article."""
    quick = settings.model_copy(update={"lag_interval_s": 0.5, "batch_size": 4})
    ensure_topics(quick)
    worker = WorkerProcess(quick, tmp_path / "count.log")
    worker.start()
    try:
        push(quick, [story(i) for i in range(80)])
        outputs = read_outputs(quick, 80)
        assert all(o["duplicate_of"] is None for o in outputs)
        deadline = time.monotonic() + 30
        while table_entries(quick) != 80 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert table_entries(quick) == 80, worker.log()
    finally:
        worker.stop()
    changelog = f"{quick.app_id}-dedup-changelog"
    records = [json.loads(v) for v in tail(quick, [changelog], from_beginning=True, idle_timeout=3)]
    assert len(records) == 80
    assert all(isinstance(r, dict) and r["h"] for r in records)
