"""``mediamon feeds``: feeds added from the command line (URLs, OPML) and removed; ``feeds run``
in a process of its own feeding a real worker, out on the enriched topic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pipeline.cli import app
from pipeline.settings import Settings
from pipeline.transport.broker import free_port
from tests.conftest import WorkerProcess, read_outputs, settings_env
from tests.feeds.conftest import FEEDS, Answer, Site

pytestmark = pytest.mark.integration


def mediamon(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=settings.as_env())


def feeds_once(settings: Settings) -> subprocess.CompletedProcess[bytes]:
    """`mediamon feeds run --once` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "feeds", "run", "--once"],
        env=settings_env(settings),
        capture_output=True,
        timeout=120,
    )


def test_feeds_are_added_listed_and_removed(settings: Settings) -> None:
    added = mediamon(settings, "feeds", "add", "https://a.example/rss", str(FEEDS / "feeds.opml"))
    assert added.exit_code == 0, added.output
    listed = mediamon(settings, "feeds", "list")
    assert listed.exit_code == 0, listed.output
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == [
        "https://a.example/rss",
        "https://harbour.example/rss.xml",
        "https://valley.example/atom.xml",
    ]
    assert "Harbour Gazette" in listed.output
    removed = mediamon(settings, "feeds", "remove", "https://a.example/rss")
    assert removed.exit_code == 0, removed.output
    again = mediamon(settings, "feeds", "list")
    assert "https://a.example/rss" not in again.output
    missing = mediamon(settings, "feeds", "remove", "https://never.example/feed")
    assert missing.exit_code == 2
    assert "nothing removed" in missing.output


def test_an_invalid_feed_adds_nothing(settings: Settings) -> None:
    result = mediamon(settings, "feeds", "add", "https://ok.example/rss", "ftp://files.example/x")
    assert result.exit_code == 2
    assert "none added" in result.output
    assert "no feeds" in mediamon(settings, "feeds", "list").output


def test_feed_articles_go_through_a_real_worker(
    settings: Settings, worker: WorkerProcess, site: Site
) -> None:
    site.serve("/rss.xml", FEEDS / "rss.xml", "application/rss+xml")
    for path in ("/news/ferry-timetable", "/news/fish-market?utm_source=rss"):
        site.serve(path, FEEDS / "article.html", "text/html; charset=utf-8")
    reader = settings.model_copy(
        update={
            "feeds_allowed_networks": ["127.0.0.0/8"],
            "feeds_host_interval_s": 0.0,
            "feeds_metrics_port": free_port(),
        }
    )
    assert mediamon(reader, "feeds", "add", site.url("/rss.xml")).exit_code == 0
    run = feeds_once(reader)
    output = run.stdout.decode()
    assert run.returncode == 0, output + run.stderr.decode()[-3000:]
    assert "feeds: 1 feed(s), 0 URL(s) seen before" in output
    assert "feeds round 1: 1 polled (1 new), 2 article(s) produced" in output
    events = read_outputs(
        settings, 2, timeout=180, topics=[settings.topic_enriched]
    )  # models load slowly
    assert sorted(str(e["url"]) for e in events) == [
        site.url("/news/ferry-timetable"),
        site.url("/news/fish-market"),
    ]
    assert {e["title"] for e in events} == {
        "Ferry timetable changes next week",
        "Council approves new fish market",
    }
    again = feeds_once(reader)
    assert "2 URL(s) seen before" in again.stdout.decode()
    assert "0 article(s) produced" in again.stdout.decode()
    assert site.hits("/news/ferry-timetable") == 1


def test_a_feed_of_the_feeds_file_is_polled(
    settings: Settings, site: Site, tmp_path: object
) -> None:

    listing = Path(str(tmp_path)) / "feeds.txt"
    listing.write_text(f"# my feeds\n{site.url('/empty.xml')} Empty feed\n")
    site.routes["/empty.xml"] = Answer(
        headers={"content-type": "application/rss+xml"},
        body=b'<rss version="2.0"><channel><title>Empty</title></channel></rss>',
    )
    reader = settings.model_copy(
        update={
            "feeds_allowed_networks": ["127.0.0.0/8"],
            "feeds_file": listing,
            "feeds_metrics_port": 0,
        }
    )
    listed = mediamon(reader, "feeds", "list")
    assert listed.output.splitlines() == [f"{site.url('/empty.xml')}\tfile\tEmpty feed"]
    run = feeds_once(reader)
    assert "feeds round 1: 1 polled (1 unchanged), 0 article(s) produced" in run.stdout.decode()
