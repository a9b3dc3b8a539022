"""Freeze the broker (SIGSTOP) for longer than the session timeout while the worker works: it
waits, recovers when the broker thaws, and loses nothing. Then freeze it again and SIGTERM the
worker while its batch waits on the broker: nothing is committed without its output, and a
restarted worker delivers everything."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable

import pytest

from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker
from pipeline.transport.client import ensure_topics
from tests.conftest import WorkerProcess
from tests.faults.conftest import (
    DELIVERY_NER,
    Reader,
    missing_below_commit,
    push_values,
    rss_mib,
    wait_until,
    worker_pid,
)
from tests.faults.payloads import expected_id, generate_articles

pytestmark = [pytest.mark.integration, pytest.mark.alone]

ARTICLES = 500


def test_a_frozen_broker_stalls_the_worker_which_recovers_and_loses_nothing(
    settings: Settings,
    own_broker: EmbeddedBroker,
    started: Callable[[Settings], WorkerProcess],
) -> None:
    s = settings.model_copy(update={"broker": own_broker.url, "ner_model": DELIVERY_NER})
    broker_pid = own_broker.pid
    assert broker_pid is not None
    stall_s = s.session_timeout_s + 4
    values = generate_articles(ARTICLES, seed=99)
    ids = [expected_id(value, s.max_message_bytes) for value in values]
    ensure_topics(s)
    positions = push_values(s, values)
    reader = Reader(s)
    worker = started(s)
    report: dict[str, object] = {"stall_s": stall_s, "session_timeout_s": s.session_timeout_s}
    try:
        # 1. a stall mid-stream, longer than the session timeout
        wait_until(lambda: reader.count() >= 100, 120, "progress before the stall")
        before = reader.count()
        rss_before = rss_mib(worker_pid(worker))
        os.kill(broker_pid, signal.SIGSTOP)
        try:
            time.sleep(stall_s)
            assert worker.alive, worker.log()
            rss_stalled = rss_mib(worker_pid(worker))
        finally:
            os.kill(broker_pid, signal.SIGCONT)
        # recovered: new batches (beyond what was in flight at the freeze) are published
        report["recovery_s"] = round(
            wait_until(lambda: reader.count() >= before + 4 * s.batch_size, 120, "recovery"), 1
        )
        rss_after = rss_mib(worker_pid(worker))
        report["rss_mib"] = [round(rss_before), round(rss_stalled), round(rss_after)]

        # 2. SIGTERM while the batch in hand waits on a frozen broker: the worker gives the
        # batch up and exits by itself within its shutdown timeout, the broker still frozen
        wait_until(lambda: reader.count() >= before + 160, 120, "progress before the 2nd stall")
        assert worker.process is not None
        os.kill(broker_pid, signal.SIGSTOP)
        try:
            time.sleep(2)
            worker.process.send_signal(signal.SIGTERM)
            began = time.monotonic()
            code = worker.process.wait(timeout=s.shutdown_timeout_s + 15)
            report["sigterm_while_frozen"] = {
                "exit": code,
                "stop_s": round(time.monotonic() - began, 1),
            }
        finally:
            os.kill(broker_pid, signal.SIGCONT)
        worker.process = None
        assert code in (0, 1), worker.log()
        assert "gave up the batch" in worker.log()
        committed = reader.committed()
        assert missing_below_commit(committed, positions, ids, reader.read_all()) == []
        report["committed_at_stop"] = sum(committed.values())

        # 3. a restarted worker delivers everything
        worker.start()
        wait_until(lambda: sum(reader.committed().values()) >= len(values), 180, "the rest")
        outputs = reader.read_all()
    finally:
        reader.close()

    assert worker.alive, worker.log()
    seen = {o.value["id"] for o in outputs if o.is_event}
    assert not set(ids) - seen, f"{len(set(ids) - seen)} articles lost"
    assert all(o.is_event for o in outputs)
    report["duplicates"] = len(outputs) - len(values)
    sys.stderr.write(f"\nstall test: {len(values)} articles, lost 0, {report}\n")
