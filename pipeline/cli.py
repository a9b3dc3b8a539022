"""The ``mediamon`` command line: broker, worker, push, tail, enrich, demo, schemas, trends,
watch, feeds and notify."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.keyed import KeyedItems
from pipeline.models import TrendKind, encode
from pipeline.rules.trends import RankBy
from pipeline.settings import Settings
from pipeline.sources import chunks, read_sources
from pipeline.transport.client import BrokerUnavailable

app = typer.Typer(
    help="Mediamon: raw news articles in, enriched events out, over Kafka.",
    no_args_is_help=True,
    add_completion=False,
)

Paths = Annotated[list[str], typer.Argument(help="Files, directories, or - for stdin.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"mediamon: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@app.command()
def broker(
    port: Annotated[int, typer.Option(help="Port to listen on (loopback).")] = 9092,
    host: Annotated[str, typer.Option(help="Address to listen on and advertise.")] = "127.0.0.1",
) -> None:
    """Run the embedded Kafka-compatible broker (Tansu, memory storage) in the foreground."""
    from pipeline.transport.broker import EMBEDDED_BROKER_SETTINGS, EmbeddedBroker
    from pipeline.transport.client import ensure_topics

    embedded = EmbeddedBroker(port=port, host=host)
    try:
        embedded.start()
    except RuntimeError as exc:
        raise _fail(str(exc)) from exc
    settings = embedded.configure(Settings())
    created = ensure_topics(settings)
    typer.echo(f"broker listening on {host}:{port}; topics created: {', '.join(created) or '-'}")
    typer.echo("for a worker against it, in another terminal:")
    env = settings.as_env()
    for name in ["broker", *EMBEDDED_BROKER_SETTINGS]:
        typer.echo(f"  export MEDIAMON_{name.upper()}={env[f'MEDIAMON_{name.upper()}']}")
    typer.echo("  mediamon worker\nCtrl-C stops the broker (its storage is in memory).")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        embedded.stop()


@app.command()
def worker() -> None:
    """Run the stream worker against the configured broker (MEDIAMON_BROKER)."""
    from pipeline.stream.worker import run_worker

    try:
        run_worker(Settings())
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc


@app.command()
def push(
    paths: Paths,
    topic: Annotated[str | None, typer.Option(help="Topic (default: the ingest topic).")] = None,
) -> None:
    """Send articles (.json object or array, .jsonl, .txt, .md, .html) to the ingest topic."""
    from pipeline.transport.client import push as push_values

    settings = Settings()
    try:
        values = [record.value for record in read_sources(paths)]
        sent = push_values(settings, values, topic)
    except (BrokerUnavailable, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"sent {sent} article(s) to {topic or settings.topic_raw}")


def _topic(settings: Settings, name: str) -> str:
    """A topic by name, or one of the configured topics by its short name (``alerts``...)."""
    short = {
        "raw": settings.topic_raw,
        "enriched": settings.topic_enriched,
        "deadletter": settings.topic_deadletter,
        "alerts": settings.topic_alerts,
        "trends": settings.topic_trends,
        "notify-deadletter": settings.topic_notify_deadletter,
    }
    return short.get(name, name)


@app.command()
def tail(
    topic: Annotated[
        list[str] | None,
        typer.Option(
            help="Topic(s) to read, by name or as raw, enriched, deadletter, alerts, trends or"
            " notify-deadletter (the configured topics); default: enriched."
        ),
    ] = None,
    from_beginning: Annotated[bool, typer.Option(help="Start at the oldest record.")] = False,
    max_records: Annotated[
        int | None, typer.Option("--max", help="Stop after this many records.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds without a record.")
    ] = None,
) -> None:
    """Print the records of the enriched topic (or another) as JSON lines."""
    from pipeline.transport.client import tail as tail_values

    settings = Settings()
    out = sys.stdout.buffer
    try:
        for value in tail_values(
            settings,
            [_topic(settings, name) for name in topic or ["enriched"]],
            from_beginning=from_beginning,
            max_records=max_records,
            idle_timeout=timeout,
        ):
            out.write(value + b"\n")
            out.flush()
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        pass


@app.command()
def enrich(
    paths: Paths,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Enrich articles offline with the same stages as the stream, no Kafka: one JSON line per
    input record, in input order, an enriched event or a dead-letter record (see record_type)."""
    from pipeline.enrich import Enricher

    logging.basicConfig(level=logging.WARNING)
    settings = Settings()
    enricher = Enricher(settings)
    with output.open("wb") if output else open(sys.stdout.fileno(), "wb", closefd=False) as out:
        try:
            for batch in chunks(read_sources(paths), settings.batch_size):
                for outcome in enricher.process(batch):
                    out.write(encode(outcome) + b"\n")
        except FileNotFoundError as exc:
            raise _fail(str(exc)) from exc


@app.command()
def demo(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Articles to push instead of the bundled samples."),
    ] = None,
    once: Annotated[bool, typer.Option(help="Exit 0 once every article is enriched.")] = False,
    port: Annotated[int, typer.Option(help="Broker port; a free one if taken.")] = 9092,
) -> None:
    """Start the embedded broker and a worker, push the samples, show each enriched event."""
    from pipeline.demo import run_demo

    raise typer.Exit(run_demo(paths, once=once, port=port))


@app.command()
def schemas(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the JSON Schemas.")] = Path(
        "schemas"
    ),
) -> None:
    """Write the JSON Schemas of the enriched event and the dead-letter record."""
    from pipeline.schemas import write_schemas

    for path in write_schemas(out_dir):
        typer.echo(f"wrote {path}")


@app.command()
def trends(
    kind: Annotated[
        TrendKind | None,
        typer.Option(help="Only entities, tags or locations (default: all three)."),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option("--top", "-n", min=1, help="Terms per kind (default: MEDIAMON_TRENDS_TOP_N)."),
    ] = None,
    by: Annotated[RankBy, typer.Option("--by", help="Rank by count or by burst score.")] = (
        RankBy.COUNT
    ),
    as_json: Annotated[
        bool, typer.Option("--json", help="Trend records as JSON lines instead of tables.")
    ] = False,
) -> None:
    """The top entities and tags of the newest window, from the trends topic."""
    from rich.console import Console
    from rich.table import Table

    from pipeline.models import Trend
    from pipeline.rules.trends import latest_window
    from pipeline.rules.trends import top as top_rows
    from pipeline.transport.client import read_since

    settings = Settings()
    size = settings.trends_window_s
    since = (int(time.time()) // size - 1) * size  # the previous window's start
    try:
        values = read_since(settings, settings.topic_trends, since * 1000)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    records = []
    for value in values:
        try:
            records.append(Trend.model_validate_json(value))
        except ValueError:
            typer.echo(f"skipped a record that is not a trend: {value[:80]!r}", err=True)
    current = latest_window(records)
    if not current:
        typer.echo(f"no trend records on {settings.topic_trends} since the previous window")
        return
    console = Console()
    window = f"{current[0].window_start:%Y-%m-%d %H:%M} to {current[0].window_end:%H:%M} UTC"
    for shown in [kind] if kind else list(TrendKind):
        rows = top_rows([r for r in current if r.kind == shown], top or settings.trends_top_n, by)
        if as_json:
            for row in rows:
                sys.stdout.buffer.write(encode(row) + b"\n")
            continue
        plural = {
            TrendKind.ENTITY: "entities",
            TrendKind.TAG: "tags",
            TrendKind.LOCATION: "locations",
        }[shown]
        if not rows:
            console.print(f"no {plural} in the window {window}")
            continue
        table = Table(title=f"Top {plural} by {by.value}", caption=f"window {window}")
        for column in ("#", "label", "id", "count", "baseline", "burst"):
            table.add_column(column, justify="left" if column in ("label", "id") else "right")
        for rank, row in enumerate(rows, 1):
            table.add_row(
                str(rank),
                row.label,
                row.id,
                str(row.count),
                f"{row.baseline_mean:.1f}",
                f"{row.burst:+.1f}",
            )
        console.print(table)


watch_app = typer.Typer(
    help="Watch rules: every worker publishes an alert for each article that matches one.",
    no_args_is_help=True,
)
app.add_typer(watch_app, name="watch")


def _removable(
    keys: list[str], items: KeyedItems[Any], file: Path | None, topic: str, what: str, users: str
) -> None:
    """Fail, removing nothing, unless every key is an item of the topic."""
    problems = [
        f"{key} comes from {file}: edit the file and restart the {users}"
        if key in items.file
        else f"no {what} {key} in {topic}"
        for key in keys
        if key not in items.topic
    ]
    if problems:
        raise _fail("nothing removed:\n  " + "\n  ".join(problems))


@watch_app.command("add")
def watch_add(
    path: Annotated[
        str,
        typer.Argument(help="A YAML or JSON file: one rule, a list, or JSON lines; - for stdin."),
    ],
) -> None:
    """Add watch rules (replacing those of the same id); running workers apply them at once."""
    from pipeline.rules.watch import parse_rules
    from pipeline.transport.watch import add_rules

    try:
        text = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror or exc}") from exc
    rules, errors = parse_rules(text, "stdin" if path == "-" else path)
    if errors:
        raise _fail("invalid watch rules, none added:\n  " + "\n  ".join(errors))
    if not rules:
        raise _fail(f"no rule in {path}")
    try:
        add_rules(Settings(), rules)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    for rule in rules:
        typer.echo(f"added {rule.id}")


@watch_app.command("list")
def watch_list(
    as_json: Annotated[
        bool, typer.Option("--json", help="One rule a line as JSON (what `watch add` takes).")
    ] = False,
) -> None:
    """List the rules workers apply: the watch topic's and MEDIAMON_WATCH_FILE's."""
    from pipeline.transport.watch import read_rules

    try:
        rules = read_rules(Settings())
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    for rule in sorted(rules.active, key=lambda r: r.id):
        if as_json:
            typer.echo(rule.model_dump_json(exclude_defaults=True))
        else:
            origin = "topic" if rule.id in rules.topic else "file"
            typer.echo(f"{rule.id}\t{origin}\t{rule.description}")
    if not as_json and not rules.active:
        typer.echo("no watch rules", err=True)


@watch_app.command("remove")
def watch_remove(
    rule_ids: Annotated[list[str], typer.Argument(help="The ids of the rules to remove.")],
) -> None:
    """Remove watch rules from the watch topic; running workers stop applying them at once."""
    from pipeline.transport.watch import read_rules, remove_rules

    settings = Settings()
    try:
        rules = read_rules(settings)
        _removable(rule_ids, rules, settings.watch_file, settings.topic_watch, "rule", "workers")
        remove_rules(settings, rule_ids)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    for rule_id in rule_ids:
        typer.echo(f"removed {rule_id}")


feeds_app = typer.Typer(
    help="Feeds: RSS, Atom and JSON feeds and news sitemaps read into the ingest topic.",
    no_args_is_help=True,
)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("run")
def feeds_run(
    once: Annotated[bool, typer.Option(help="Poll every feed once, then exit.")] = False,
) -> None:
    """Poll the feeds and produce each new article to the ingest topic (a line per round)."""
    from pipeline.feeds.run import run_feeds

    try:
        run_feeds(Settings(), typer.echo, once=once)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc


@feeds_app.command("add")
def feeds_add(
    sources: Annotated[
        list[str],
        typer.Argument(help="Feed URLs, or files: OPML or one URL a line; - for stdin."),
    ],
) -> None:
    """Add feeds; running feed readers poll them at once."""
    from pipeline.feeds.lists import parse_feed_list
    from pipeline.transport.feeds import add_feeds

    feeds = []
    errors = []
    for source in sources:
        if "://" in source:
            text, origin = source.encode(), "the command line"
        else:
            try:
                text = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
            except OSError as exc:
                raise _fail(f"cannot read {source}: {exc.strerror or exc}") from exc
            origin = "stdin" if source == "-" else source
        found, problems = parse_feed_list(text, origin)
        feeds += found
        errors += problems
    if errors:
        raise _fail("invalid feeds, none added:\n  " + "\n  ".join(errors))
    if not feeds:
        raise _fail("no feed given")
    try:
        add_feeds(Settings(), feeds)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    for feed in feeds:
        typer.echo(f"added {feed.url}")


@feeds_app.command("list")
def feeds_list() -> None:
    """List the feeds the readers poll: the feeds topic's and MEDIAMON_FEEDS_FILE's."""
    from pipeline.transport.feeds import read_feeds

    try:
        feeds = read_feeds(Settings())
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    for feed in sorted(feeds.active, key=lambda f: f.url):
        origin = "topic" if feed.url in feeds.topic else "file"
        typer.echo(f"{feed.url}\t{origin}\t{feed.title}")
    if not feeds.active:
        typer.echo("no feeds", err=True)


@feeds_app.command("remove")
def feeds_remove(
    urls: Annotated[list[str], typer.Argument(help="The URLs of the feeds to remove.")],
) -> None:
    """Remove feeds from the feeds topic; running feed readers stop polling them at once."""
    from pipeline.transport.feeds import read_feeds, remove_feeds

    settings = Settings()
    try:
        feeds = read_feeds(settings)
        _removable(urls, feeds, settings.feeds_file, settings.topic_feeds, "feed", "readers")
        remove_feeds(settings, urls)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    for url in urls:
        typer.echo(f"removed {url}")


notify_app = typer.Typer(
    help="Notifications: watch-rule alerts sent to webhooks, e-mail and chat services.",
    no_args_is_help=True,
)
app.add_typer(notify_app, name="notify")


@notify_app.command("run")
def notify_run() -> None:
    """Send the alerts of the rules that name targets (notify) to them, until stopped."""
    from pipeline.notify.run import run_notifier

    try:
        run_notifier(Settings(), typer.echo)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc


def main() -> None:
    """Entry point of the ``mediamon`` command."""
    from pipeline.transport.codecs import MissingCodecs

    try:
        app()
    except MissingCodecs as exc:
        typer.secho(f"mediamon: {exc}", err=True, fg=typer.colors.RED)
        raise SystemExit(2) from exc
