"""Feed readers started side by side split the feeds through their consumer group, and the one
left takes every feed over when the other stops: real ``mediamon feeds run`` processes, the
embedded broker, a local HTTP server that tells the readers apart by their User-Agent."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.settings import Settings
from pipeline.transport.broker import free_port
from pipeline.transport.client import ensure_topics
from tests.conftest import WorkerProcess
from tests.feeds.conftest import Answer, Site

pytestmark = pytest.mark.integration

FEEDS = 16  # two slots (the test topics' partitions): all 16 in one slot has odds 2 in 65,536
EMPTY = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'


def reader(settings: Settings, name: str, log: Path) -> WorkerProcess:
    s = settings.model_copy(
        update={
            "feeds_user_agent": name,
            "feeds_allowed_networks": ["127.0.0.0/8"],
            "feeds_host_interval_s": 0.0,
            "feeds_poll_min_s": 0.5,
            "feeds_poll_max_s": 0.5,
            "feeds_metrics_port": free_port(),
        }
    )
    process = WorkerProcess(s, log, ("feeds", "run"))
    process.start()
    return process


def window(site: Site, paths: list[str], seconds: float) -> dict[str, set[str]]:
    """Which readers polled each feed over the next ``seconds``."""
    start = len(site.requests)
    time.sleep(seconds)
    polled: dict[str, set[str]] = {path: set() for path in paths}
    for path, headers in site.requests[start:]:
        if path in polled:
            polled[path].add(headers.get("user-agent", ""))
    return polled


Polled = dict[str, set[str]]


def settles(
    site: Site, paths: list[str], want: Callable[[Polled], bool], timeout: float = 90
) -> None:
    """Wait for a window of polls that is as ``want`` says."""
    deadline = time.monotonic() + timeout
    seen: Polled = {}
    while time.monotonic() < deadline:
        polled = window(site, paths, 3.0)
        if want(polled):
            return
        seen = polled
    raise AssertionError(f"not settled in {timeout:.0f}s; last window: {seen}")


def test_two_readers_split_the_feeds_and_one_takes_over_when_the_other_stops(
    settings: Settings, site: Site, tmp_path: Path
) -> None:
    paths = [f"/feed-{n}.xml" for n in range(FEEDS)]
    for path in paths:
        site.routes[path] = Answer(headers={"content-type": "application/rss+xml"}, body=EMPTY)
    ensure_topics(settings)
    added = CliRunner().invoke(
        app, ["feeds", "add", *(site.url(p) for p in paths)], env=settings.as_env()
    )
    assert added.exit_code == 0, added.output
    first = reader(settings, "reader-a", tmp_path / "a.log")
    second = reader(settings, "reader-b", tmp_path / "b.log")
    try:

        def split(polled: Polled) -> bool:
            every = all(len(readers) == 1 for readers in polled.values())
            return every and set().union(*polled.values()) == {"reader-a", "reader-b"}

        settles(site, paths, split)
        second.stop()

        def taken_over(polled: Polled) -> bool:
            return all(readers == {"reader-a"} for readers in polled.values())

        settles(site, paths, taken_over)
        assert first.alive, first.log()[-3000:]
    finally:
        second.stop()
        first.stop()
