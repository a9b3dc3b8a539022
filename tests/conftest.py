"""Fixtures shared by every test area: the embedded broker, per-test settings with their own
topics, a real worker process, and the repository's scripts loaded as modules."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker, free_port, stop_process
from pipeline.transport.client import ensure_topics

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]


def load_script(path: Path) -> Any:
    """A script of ``bench/`` or ``scripts/`` as a module named after its file (registered,
    so that its dataclasses find their module; running it may put its folder on sys.path)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One embedded Tansu broker for the whole session, on a free loopback port."""
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    with EmbeddedBroker(log_path=log) as embedded:
        yield embedded


def embedded_settings(broker: EmbeddedBroker, data_dir: Path) -> Settings:
    """Settings pointing at the embedded broker, with topics and a group of their own, a free
    metrics port and the short timeouts the embedded broker wants."""
    run = uuid.uuid4().hex[:8]
    return broker.configure(
        Settings(
            app_id=f"mediamon-test-{run}",
            topic_raw=f"test-{run}.raw",
            topic_enriched=f"test-{run}.enriched",
            topic_deadletter=f"test-{run}.deadletter",
            topic_alerts=f"test-{run}.alerts",
            topic_watch=f"test-{run}.watch",
            topic_feeds=f"test-{run}.feeds",
            topic_feeds_seen=f"test-{run}.feeds.seen",
            topic_notify_deadletter=f"test-{run}.notify.deadletter",
            partitions=2,
            metrics_port=free_port(),
            data_dir=data_dir,
            batch_timeout_s=0.1,
        )
    )


@pytest.fixture
def settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """Settings of this test's own (see :func:`embedded_settings`)."""
    return embedded_settings(broker, tmp_path / "data")


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process read ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAMON_")}
    return env | settings.as_env()


class WorkerProcess:
    """``mediamon worker`` (or another long-running command, such as ``feeds run``) in a child
    process, with its output kept for failure reports."""

    def __init__(
        self, settings: Settings, log_path: Path, command: tuple[str, ...] = ("worker",)
    ) -> None:
        self.settings = settings
        self.log_path = log_path
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", *self.command],
                env=settings_env(self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.process is None:
            return None
        code = stop_process(self.process, sig=sig, timeout=timeout)
        self.process = None
        return code

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A running worker for ``settings`` (topics created first, as an operator would); its log
    is printed when the test fails."""
    ensure_topics(settings)
    process = WorkerProcess(settings, tmp_path / "worker.log")
    process.start()
    yield process
    process.stop()
    sys.stderr.write(f"--- worker log ---\n{process.log()[-5000:]}\n")


def read_outputs(
    settings: Settings, count: int, timeout: float = 60, topics: list[str] | None = None
) -> list[dict[str, object]]:
    """The first ``count`` records of ``topics`` (default: the enriched and dead-letter
    topics), as parsed JSON."""
    from pipeline.transport.client import tail

    values = tail(
        settings,
        topics or [settings.topic_enriched, settings.topic_deadletter],
        from_beginning=True,
        max_records=count,
        idle_timeout=timeout,
    )
    return [json.loads(value) for value in values]
