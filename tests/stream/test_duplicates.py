"""Duplicate detection in the stream: state in a changelog-backed table that survives a
restart, and the optional duplicates topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.transport.client import ensure_topics, push
from tests.conftest import WorkerProcess, read_outputs

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "articles"
ORIGINAL = (EXAMPLES / "02-riksbank-holds-rate.json").read_bytes()
SYNDICATED = (EXAMPLES / "07-riksbank-holds-rate-syndicated.json").read_bytes()


def test_a_syndicated_copy_is_marked_after_the_worker_restarts(
    settings: Settings, worker: WorkerProcess
) -> None:
    push(settings, [ORIGINAL])
    (original,) = read_outputs(settings, 1)
    assert original["duplicate_of"] is None
    assert worker.stop() == 0, worker.log()

    worker.start()
    push(settings, [SYNDICATED])
    outputs = read_outputs(settings, 2)

    assert worker.alive, worker.log()
    copy = next(o for o in outputs if o["id"] != original["id"])
    assert copy["title"] != original["title"]
    assert copy["duplicate_of"] == original["id"]


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
