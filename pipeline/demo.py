"""``mediamon demo``: the embedded broker, a worker process and the metrics endpoint on this
machine; pushes the sample articles and prints each enriched event as it arrives."""

from __future__ import annotations

import _thread
import os
import subprocess
import sys
import threading

import orjson
from rich.console import Console

from pipeline import DATA_DIR
from pipeline.settings import Settings
from pipeline.sources import read_sources
from pipeline.summary import summarise
from pipeline.transport.broker import EmbeddedBroker, free_port, stop_process, wait_for_port
from pipeline.transport.client import ensure_topics, push, tail

EXAMPLES = DATA_DIR / "examples" / "articles"
"""The sample articles, shipped in the package."""


def run_demo(paths: list[str] | None, *, once: bool, port: int) -> int:
    """Run the demo; with ``once``, return 0 when every article is enriched, 1 otherwise."""
    console = Console()
    base = Settings()
    if "stance_backlog_model" not in base.model_fields_set:
        # the samples wait in the topic while the worker starts: not a backlog worth scoring
        # with the lite model, so the demo shows the main model's stances unless asked
        base = base.model_copy(update={"stance_backlog_model": ""})
    base.data_dir.mkdir(parents=True, exist_ok=True)
    if wait_for_port("127.0.0.1", port, timeout=0.1):
        port = free_port()
    broker = EmbeddedBroker(port=port, log_path=base.data_dir / "broker.log")
    broker.start()
    settings = broker.configure(base)
    ensure_topics(settings)
    worker_log = base.data_dir / "worker.log"
    env = {**os.environ, **settings.as_env()}
    with worker_log.open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "worker"], env=env, stdout=log, stderr=log
        )
    stopping = threading.Event()
    watchdog = threading.Thread(target=_interrupt_if_dead, args=(worker, stopping), daemon=True)
    watchdog.start()
    try:
        records = list(read_sources(paths or [str(EXAMPLES)]))
        sent = push(settings, [record.value for record in records])
        console.print(
            f"[bold]Mediamon demo[/]: broker {broker.url}, worker pid {worker.pid} "
            f"(log {worker_log}), metrics http://127.0.0.1:{settings.metrics_port}/metrics\n"
            f"pushed {sent} article(s). From another terminal:\n"
            f"  export MEDIAMON_BROKER={broker.url}\n"
            f"  mediamon push FILE...    mediamon tail\n"
        )
        enriched = 0
        for seen, value in enumerate(
            tail(
                settings,
                [settings.topic_enriched, settings.topic_deadletter],
                from_beginning=True,
                idle_timeout=settings.demo_idle_timeout_s if once else None,
            ),
            start=1,
        ):
            record = orjson.loads(value)
            console.print(summarise(record))
            enriched += record.get("record_type") == "enriched"
            if once and seen >= sent:
                break
    except KeyboardInterrupt:
        if worker.poll() is not None:
            console.print(f"[red]the worker exited with {worker.returncode}; see {worker_log}[/]")
            return 1
        return 0
    finally:
        stopping.set()
        stop_process(worker, timeout=15)
        broker.stop()
    console.print(f"{enriched} of {sent} article(s) enriched")
    return 0 if enriched == sent else 1


def _interrupt_if_dead(worker: subprocess.Popen[bytes], stopping: threading.Event) -> None:
    """Wake the main thread when the worker process ends on its own."""
    worker.wait()
    if not stopping.is_set():
        _thread.interrupt_main()
