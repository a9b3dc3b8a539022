"""Hostile input through the real worker: every payload is enriched or dead-lettered with a
reason (the same outcome as the normaliser gives offline), the worker stays up with bounded
memory, a slow page does not cost the group its members, and nothing is fetched from the
network or read from the file system."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable

import pytest

from pipeline.models import Rejected
from pipeline.settings import Settings
from pipeline.transport.client import ensure_topics
from tests.conftest import WorkerProcess
from tests.faults.conftest import (
    DELIVERY_NER,
    Probe,
    Reader,
    push_values,
    rss_mib,
    wait_until,
    worker_pid,
)
from tests.faults.payloads import (
    HOSTILE_TIMESTAMPS_MS,
    PASSWD_MARKERS,
    expected_id,
    generate_articles,
    hostile_payloads,
    slow_html,
)

pytestmark = [pytest.mark.integration, pytest.mark.alone]

MAX_MESSAGE_BYTES = 1_048_576  # the default is 4 MiB; 1 MiB keeps the run short
RSS_GROWTH_LIMIT_MIB = 700
RSS_SECOND_ROUND_MIB = 100


def offline_outcome(value: bytes) -> str:
    """What the normaliser makes of ``value`` offline: an article id, or ``reason:<reason>``."""
    try:
        return expected_id(value, MAX_MESSAGE_BYTES)
    except Rejected as exc:
        return f"reason:{exc.reason.value}"
    except Exception:
        return "reason:internal_error"


def test_hostile_input_is_handled_and_the_worker_stays_up(
    settings: Settings, started: Callable[[Settings], WorkerProcess], probe: Probe
) -> None:
    s = settings.model_copy(
        update={"max_message_bytes": MAX_MESSAGE_BYTES, "ner_model": DELIVERY_NER}
    )
    payloads = hostile_payloads(MAX_MESSAGE_BYTES, probe.url)
    slow = slow_html(MAX_MESSAGE_BYTES)
    ensure_topics(s)
    reader = Reader(s)
    worker = started(s)
    try:
        # warm up: the first article through, then the baseline memory
        canary = generate_articles(1, seed=5)
        push_values(s, canary)
        wait_until(lambda: reader.count() >= 1, 120, "the first article")
        pid = worker_pid(worker)
        rss_before = rss_mib(pid)
        peak = [rss_before]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.2):
                try:
                    peak.append(rss_mib(pid))
                except (OSError, AssertionError):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        # valid articles with timestamps no datetime can hold, in the same batch as others
        stamped = generate_articles(8, seed=6)
        timestamps: list[int | None] = [*HOSTILE_TIMESTAMPS_MS, None, None, None, None]
        values = [h.value for h in payloads]
        push_values(s, stamped, timestamps=timestamps)
        push_values(s, values[: len(values) // 2])
        push_values(s, [slow.value])
        push_values(s, values[len(values) // 2 :])
        total = len(canary) + len(stamped) + len(values) + 1
        took = wait_until(
            lambda: sum(reader.committed().values()) >= total, 240, "every payload handled"
        )
        peak_first = max(peak)
        # the memory-hungry ones again: what they cost must not add up
        heavy = [h.value for h in payloads if len(h.value) > 500_000] + [slow.value]
        push_values(s, heavy)
        wait_until(
            lambda: sum(reader.committed().values()) >= total + len(heavy), 240, "second round"
        )
        sampling.set()
        sampler.join()
        rss_after = rss_mib(pid)
        outputs = reader.read_all()
    finally:
        reader.close()

    assert worker.alive, worker.log()
    assert len(outputs) == total + len(heavy)  # one each, no crash, no reprocessing
    letters = Counter(
        (o.letter().original_bytes(), o.letter().reason.value) for o in outputs if not o.is_event
    )
    events = Counter(str(o.value["id"]) for o in outputs if o.is_event)
    for o in outputs:
        if not o.is_event:
            assert o.letter().message

    # every stamped article came through (a bad timestamp must not fail its batch)
    for value in stamped:
        assert events[expected_id(value, MAX_MESSAGE_BYTES)] > 0
        events[expected_id(value, MAX_MESSAGE_BYTES)] -= 1
    events[expected_id(canary[0], MAX_MESSAGE_BYTES)] -= 1

    # every payload: its outcome is allowed, and the one the normaliser gives offline
    outcomes: dict[str, str] = {}
    for hostile in payloads:
        offline = offline_outcome(hostile.value)
        outcomes[hostile.name] = _take(hostile.value, offline, letters, events)
        if offline.startswith("reason:"):
            assert outcomes[hostile.name] == offline, hostile.name
    for value in heavy[:-1]:  # their second round
        assert _take(value, offline_outcome(value), letters, events) != "missing"
    # the slow page (too slow to parse again here), twice: dead letters, else what is left
    twice = [_take(slow.value, "", letters, events) for _ in range(2)]
    if twice == ["missing", "missing"] and sum(events.values()) == 2:
        twice = ["enriched", "enriched"]
        events.clear()
    assert twice[0] == twice[1], twice
    outcomes[slow.name] = twice[0]
    assert sum(letters.values()) == 0, letters  # every output accounted for
    assert sum(events.values()) == 0, events
    unexpected = [
        f"{hostile.name}: {outcomes[hostile.name]}"
        for hostile in [*payloads, slow]
        if _reason(outcomes[hostile.name]) not in hostile.allowed
    ]
    assert not unexpected, unexpected

    # nothing fetched, nothing read from the file system
    assert probe.hits == []
    for o in outputs:
        text = str(o.value)
        for marker in PASSWD_MARKERS:
            assert marker not in text, (marker, o.value.get("title"))

    tally = Counter(_reason(o) or "enriched" for o in outcomes.values())
    sys.stderr.write(
        f"\nhostile test: {len(payloads) + 1} payloads + {len(stamped)} articles with hostile"
        f" timestamps in {took:.0f}s; outcomes {dict(tally)}; internal errors:"
        f" {[n for n, o in outcomes.items() if o.endswith('internal_error')]};"
        f" RSS before {rss_before:.0f} MiB, peak {peak_first:.0f}, peak after {len(heavy)}"
        f" heavy payloads again {max(peak):.0f}, after {rss_after:.0f};"
        f" probe requests {len(probe.hits)}\n"
    )

    # memory bounded: one slow 1 MiB page costs lxml and trafilatura some 450 MiB while it is
    # parsed (see the report), and a second round of the heaviest payloads adds nothing more
    assert peak_first - rss_before < RSS_GROWTH_LIMIT_MIB, (rss_before, peak_first)
    assert max(peak) - peak_first < RSS_SECOND_ROUND_MIB, (peak_first, max(peak), rss_after)
    # the slow page did not make the worker lose its partitions (no rebalance)
    log = worker.log()
    assert log.count("Joined group") == 1, "the worker was rebalanced out"


def _take(
    value: bytes, offline: str, letters: Counter[tuple[bytes, str]], events: Counter[str]
) -> str:
    """What the worker made of ``value`` ('enriched', 'reason:<reason>' or 'missing'), taking
    the output out of ``letters`` or ``events``; ``offline`` is the id it should have."""
    for (original, reason), count in letters.items():
        if original == value and count:
            letters[(original, reason)] -= 1
            return f"reason:{reason}"
    if events[offline] > 0:
        events[offline] -= 1
        return "enriched"
    return "missing"


def _reason(outcome: str) -> str | None:
    return None if outcome == "enriched" else outcome.removeprefix("reason:")
