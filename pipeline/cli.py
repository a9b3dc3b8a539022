"""The ``mediamon`` command line: broker, worker, push, tail, enrich, demo and schemas."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.models import encode
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


@app.command()
def tail(
    topic: Annotated[
        list[str] | None, typer.Option(help="Topic(s) to read (default: the enriched topic).")
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
            topic or [settings.topic_enriched],
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


def main() -> None:
    """Entry point of the ``mediamon`` command."""
    app()
