"""Soak test: a steady load of articles through a real worker, with throughput, lag and the
worker's memory printed every few seconds, so that leaks and slowdowns show.

    python bench/soak.py --rate 20 --duration 300 --interval 10
    python bench/soak.py --broker kafka://127.0.0.1:9092 --rate 50 --duration 600
    python bench/soak.py --rate 4 --burst 40:20:30 --duration 240 --interval 5

Without ``--broker`` it starts the embedded broker on a free port. It always starts its own
worker (``mediamon worker``) on topics and a consumer group of its own, produces ``--rate``
articles a second for ``--duration`` seconds (at most ``--max-articles``), waits up to
``--drain`` seconds for the worker to catch up, prints a summary and stops everything. A
share of bad inputs (``--bad-share``) exercises the dead-letter path too. ``--burst
RATE:START:SECONDS`` sends ``RATE`` a second instead for ``SECONDS`` from ``START`` seconds
into the load, and the summary says when the lag fell back to a second of the base rate.

Columns: seconds since the load started; articles pushed; outputs published (enriched and
dead-letter records); outputs a second over the last interval; lag (pushed, less the
group's committed offsets); the worker's resident memory (VmRSS) in MiB; the articles its
duplicate detector remembers (memory that grows by design, up to MEDIAMON_DEDUP_MAX_ENTRIES);
``behind``, the share of the articles the stance stage scored over the last interval while
the worker was behind (with MEDIAMON_STANCE_BACKLOG_MODEL), from the worker's metrics.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker, free_port, stop_process
from pipeline.transport.client import connection_options, ensure_topics

MAX_DURATION_S = 24 * 3600.0

_PLACES = ("Leeds", "Lisbon", "Nairobi", "Osaka", "Toronto", "Warsaw", "Lagos", "Dublin")
_PEOPLE = ("Maria Lopez", "David Chen", "Amira Haddad", "John Okafor", "Elena Petrova")
_ORGS = ("the World Bank", "Siemens", "the Red Cross", "Network Rail", "the United Nations")
_SENTENCES = (
    "{person} said the decision had been discussed for months.",
    "Officials in {place} confirmed the figures on Monday.",
    "{org} said it would publish a full report next week.",
    "Critics argued that the plan came too late for many families.",
    "{person}, a spokesperson for {org}, declined to comment further.",
    "Local businesses in {place} reported a rise in bookings.",
    "Analysts expect the cost to rise by {pct} percent over two years.",
)
_WORDS = (
    "harbour", "budget", "council", "river", "school", "bridge", "tender", "court", "vote",
    "strike", "market", "energy", "grid", "wind", "solar", "housing", "rent", "transport",
    "airport", "rail", "bus", "hospital", "doctor", "nurse", "teacher", "farm", "harvest",
    "drought", "flood", "storm", "coast", "port", "ship", "cargo", "steel", "mine", "copper",
    "oil", "gas", "price", "wage", "pension", "tax", "reform", "election", "mayor", "minister",
    "senate", "union", "factory", "plant", "jobs", "export", "import", "tariff", "bank",
    "loan", "rate", "inflation", "museum", "festival", "stadium", "league", "coach", "season",
    "police", "fire", "water", "sewer", "road", "tunnel", "park", "forest", "wildlife",
    "fishing", "tourism", "hotel",
)  # fmt: skip
_BAD = (b"", b"\xff\xfe not utf-8", b'{"title": "broken', b"\x89PNG\r\n\x1a\n\x00\x00")


def article(rng: random.Random, number: int, run: str) -> bytes:
    """A small, unique English article as JSON."""
    fills = {
        "person": rng.choice(_PEOPLE),
        "org": rng.choice(_ORGS),
        "place": rng.choice(_PLACES),
        "pct": rng.randint(2, 40),
    }
    sentences = [s.format(**fills) for s in rng.sample(_SENTENCES, rng.randint(2, 4))]
    for _ in range(2):  # words at random, so that articles are not near duplicates
        words = rng.sample(_WORDS, rng.randint(8, 14))
        sentences.append(f"The {' '.join(words)} were discussed at length.")
    rng.shuffle(sentences)
    body = " ".join(sentences)
    return json.dumps(
        {
            "title": f"Council in {fills['place']} reviews plan, report {number}",
            "body": f"{body} Reference {run}-{number}.",
            "url": f"https://soak.example.org/{run}/{number}",
            "published_at": "2026-05-04T08:00:00Z",
        }
    ).encode()


def scrape(port: int) -> str:
    """The worker's ``/metrics`` text ("" when it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return ""


def table_entries(metrics: str) -> int | None:
    """Articles the worker's duplicate detector remembers, None if not reported."""
    match = re.search(r'^mediamon_table_entries\{table="dedup"\} ([0-9.e+]+)$', metrics, re.M)
    return int(float(match.group(1))) if match else None


def stance_articles(metrics: str) -> dict[bool, float]:
    """Articles the stance stage scored so far, by whether the worker was behind."""
    counts = {False: 0.0, True: 0.0}
    pattern = r'^mediamon_stance_articles_total\{behind="(true|false)",model="[^"]*"\} (\S+)$'
    for behind, count in re.findall(pattern, metrics, re.M):
        counts[behind == "true"] += float(count)
    return counts


def send_times(
    rate: float, duration: float, burst: tuple[float, float, float] | None = None
) -> Iterator[float]:
    """Send times, in seconds from the start, of ``rate`` a second for ``duration`` seconds,
    with ``burst`` = (rate, start, seconds) sending at its rate during its window."""
    t = 0.0
    while t <= duration:
        yield t
        in_burst = burst is not None and burst[1] <= t < burst[1] + burst[2]
        step = 1 / burst[0] if burst is not None and in_burst else 1 / rate
        if burst is not None and t < burst[1] < t + step:
            step = burst[1] - t  # the burst starts on time
        t += step


def parse_burst(text: str) -> tuple[float, float, float]:
    """``RATE:START:SECONDS`` as numbers (ValueError when malformed or not positive)."""
    try:
        rate, start, seconds = (float(part) for part in text.split(":"))
    except ValueError:
        raise ValueError(f"burst {text!r}: not three numbers RATE:START:SECONDS") from None
    if rate <= 0 or start < 0 or seconds <= 0:
        raise ValueError(f"burst {text!r}: rate and seconds must be positive, start not negative")
    return rate, start, seconds


def rss_mib(pid: int) -> float | None:
    """VmRSS of ``pid`` in MiB, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else None


class Watch:
    """Outputs published (end offsets of the output topics) and the group's committed offsets."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.consumer = KafkaConsumer(**connection_options(settings), enable_auto_commit=False)
        self.admin = KafkaAdminClient(**connection_options(settings))
        self.outputs = [
            TopicPartition(topic, p)
            for topic in settings.output_topics
            for p in range(settings.partitions)
        ]
        self.raw = [TopicPartition(settings.topic_raw, p) for p in range(settings.partitions)]

    def published(self) -> int:
        return sum(self.consumer.end_offsets(self.outputs).values())

    def committed(self) -> int:
        group = self.settings.app_id
        offsets = self.admin.list_group_offsets({group: self.raw}).get(group, {})
        return sum(meta.offset for meta in offsets.values() if meta.offset > 0)

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


def produce(
    settings: Settings,
    schedule: Iterable[float],
    limit: int,
    bad_share: float,
    pushed: list[int],
    stop: threading.Event,
) -> None:
    """Send an article at each time of ``schedule`` (at most ``limit``); count acknowledged
    ones."""
    producer = KafkaProducer(**connection_options(settings), acks="all", linger_ms=20)
    rng = random.Random(1)
    run = uuid.uuid4().hex[:6]
    started = time.monotonic()

    def acked(_: object) -> None:
        pushed[0] += 1

    try:
        for number, offset in zip(range(limit), schedule, strict=False):
            due = started + offset
            if stop.is_set():
                break
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            value = rng.choice(_BAD) if rng.random() < bad_share else article(rng, number, run)
            producer.send(settings.topic_raw, value).add_callback(acked)
        producer.flush()
    finally:
        producer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", help="a broker URL (default: start the embedded broker)")
    parser.add_argument("--rate", type=float, default=20.0, help="articles a second")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between lines")
    parser.add_argument("--max-articles", type=int, help="at most this many (default: all)")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to catch up")
    parser.add_argument("--bad-share", type=float, default=0.02, help="share of bad inputs")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--burst", metavar="RATE:START:SECONDS", help="a burst in the load")
    args = parser.parse_args(argv)
    if not 0 < args.rate <= 10_000 or not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--rate must be in (0, 10000] and --duration in (0, {MAX_DURATION_S:.0f}]")
    try:
        burst = parse_burst(args.burst) if args.burst else None
    except ValueError as exc:
        parser.error(str(exc))
    schedule = list(send_times(args.rate, args.duration, burst))
    limit = args.max_articles or len(schedule)

    workdir = Path(tempfile.mkdtemp(prefix="mediamon-soak-"))
    broker = None if args.broker else EmbeddedBroker(log_path=workdir / "broker.log")
    if broker is not None:
        broker.start()
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        broker=args.broker or "",
        app_id=f"mediamon-soak-{run}",
        topic_raw=f"soak-{run}.raw",
        topic_enriched=f"soak-{run}.enriched",
        topic_deadletter=f"soak-{run}.deadletter",
        partitions=args.partitions,
        batch_size=args.batch_size,
        metrics_port=free_port(),
        data_dir=workdir / "data",
    )
    if broker is not None:
        settings = broker.configure(settings)
    ensure_topics(settings)
    log_path = workdir / "worker.log"
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "worker"],
            env={**os.environ, **settings.as_env()},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    print(
        f"soak: worker pid {worker.pid}, log {log_path}, metrics :{settings.metrics_port}",
        flush=True,
    )
    watch = Watch(settings)
    pushed = [0]
    stop = threading.Event()
    samples: list[tuple[float, int, float]] = []  # (seconds, published, rss)
    code = 0
    warm_up = 0
    try:
        while watch.published() == 0 and worker.poll() is None:  # warm up: one article through
            producer = KafkaProducer(**connection_options(settings))
            producer.send(settings.topic_raw, article(random.Random(0), -1, run)).get(30)
            producer.close()
            warm_up += 1
            time.sleep(5)
        base_published = watch.published()
        producer_thread = threading.Thread(
            target=produce,
            args=(settings, schedule, limit, args.bad_share, pushed, stop),
            daemon=True,
        )
        print(
            f"{'s':>6} {'pushed':>8} {'outputs':>8} {'out/s':>7} {'lag':>7} {'RSS MiB':>8}"
            f" {'dedup':>8} {'behind':>7}",
            flush=True,
        )
        started = time.monotonic()
        producer_thread.start()
        last_t, last_out = 0.0, 0
        last_scored = stance_articles(scrape(settings.metrics_port))
        caught_up: float | None = None
        deadline = started + args.duration + args.drain
        while time.monotonic() < deadline:
            time.sleep(args.interval)
            if worker.poll() is not None:
                print(f"soak: the worker exited with {worker.returncode}; see {log_path}")
                code = 1
                break
            now = time.monotonic() - started
            out = watch.published() - base_published
            lag = pushed[0] + warm_up - watch.committed()
            rss = rss_mib(worker.pid) or 0.0
            samples.append((now, out, rss))
            rate = (out - last_out) / (now - last_t)
            metrics = scrape(settings.metrics_port)
            entries = table_entries(metrics)
            scored = stance_articles(metrics)
            done = {late: n - last_scored[late] for late, n in scored.items()}
            share = f"{done[True] / sum(done.values()):.0%}" if sum(done.values()) else "-"
            print(
                f"{now:6.0f} {pushed[0]:8d} {out:8d} {rate:7.1f} {lag:7d} {rss:8.0f}"
                f" {entries if entries is not None else '?':>8} {share:>7}",
                flush=True,
            )
            last_t, last_out, last_scored = now, out, scored
            if burst and caught_up is None and now > sum(burst[1:]) and lag <= args.rate:
                caught_up = now
            if not producer_thread.is_alive() and lag <= 0:
                break
    finally:
        stop.set()
        watch.close()
        stop_process(worker, sig=signal.SIGTERM, timeout=30)
        if broker is not None:
            broker.stop()
    if samples:
        _summary(samples, pushed[0])
    if burst is not None:
        end = burst[1] + burst[2]
        print(
            f"soak: burst of {burst[0]:g}/s ended at {end:.0f}s; lag under one second of the"
            f" base rate at {caught_up:.0f}s ({caught_up - end:.0f}s later)"
            if caught_up is not None
            else f"soak: burst ended at {end:.0f}s; the lag was still above the base rate's"
            " second at the end"
        )
    return code


def _summary(samples: list[tuple[float, int, float]], pushed: int) -> None:
    """Totals, and how memory moved with the work done (a leak grows with the outputs)."""
    seconds, outputs, _ = samples[-1]
    rss = [s[2] for s in samples]
    half = len(samples) // 2
    first, second = samples[:half] or samples, samples[half:]
    grew = (second[-1][2] - first[-1][2]) if half else 0.0
    work = (second[-1][1] - first[-1][1]) if half else 0
    per_1000 = grew / work * 1000 if work else 0.0
    print(
        f"soak: {pushed} pushed, {outputs} outputs in {seconds:.0f}s"
        f" ({outputs / seconds:.1f}/s); RSS first {rss[0]:.0f} MiB, max {max(rss):.0f},"
        f" last {rss[-1]:.0f}; over the second half {grew:+.0f} MiB for {work} outputs"
        f" ({per_1000:+.1f} MiB per 1000)"
    )


if __name__ == "__main__":
    sys.exit(main())
