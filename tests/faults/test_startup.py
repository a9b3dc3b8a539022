"""A worker started before its broker waits for it, saying so, and then works."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker, free_port
from tests.conftest import WorkerProcess, read_outputs
from tests.faults.conftest import push_values, wait_until
from tests.faults.payloads import expected_id, generate_articles

pytestmark = [pytest.mark.integration, pytest.mark.alone]


def test_a_worker_started_before_the_broker_waits_for_it(
    settings: Settings, started: Callable[[Settings], WorkerProcess], tmp_path: Path
) -> None:
    late = EmbeddedBroker(port=free_port(), log_path=tmp_path / "late-broker.log")
    s = settings.model_copy(update={"broker": late.url, "connect_timeout_s": 1.0})
    worker = started(s)
    try:
        waited = wait_until(
            lambda: worker.log().count("broker not available") >= 2 or not worker.alive,
            60,
            "retries logged",
        )
        assert worker.alive, worker.log()
        late.start()
        began = time.monotonic()
        (article,) = generate_articles(1, seed=3)
        push_values(s, [article])
        (event,) = read_outputs(s, 1, timeout=120)
        took = time.monotonic() - began
        assert event["id"] == expected_id(article, s.max_message_bytes)
        assert worker.alive, worker.log()
        assert "the broker answered after" in worker.log()
        assert worker.stop() == 0
    finally:
        worker.stop()
        late.stop()
    sys.stderr.write(
        f"\nstartup test: retried for {waited:.0f}s without a broker; first event {took:.0f}s"
        " after the broker started\n"
    )
