"""The real worker process against the real embedded broker, over TCP."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest

from pipeline.models import DeadLetter
from pipeline.settings import Settings
from pipeline.sources import read_sources
from pipeline.transport.client import ensure_topics, push
from tests.conftest import FIXTURES, WorkerProcess, read_outputs

pytestmark = pytest.mark.integration


def test_articles_in_every_format_come_out_enriched(
    settings: Settings, worker: WorkerProcess
) -> None:
    records = list(read_sources([str(FIXTURES / "articles")]))
    assert len(records) == 3
    push(settings, [r.value for r in records])

    events = read_outputs(settings, len(records))

    assert worker.alive, worker.log()
    assert {e["record_type"] for e in events} == {"enriched"}
    by_title = {e["title"]: e for e in events}
    assert set(by_title) == {
        "Rotterdam dock strike ends after talks with Maersk",
        "Foreign Ministers Meet in Vienna Over Grain Corridor",
        "New rail link opens between Lisbon and Madrid",
    }
    for event in events:
        assert event["schema_version"] == 1
        assert event["language"] == "en"
        assert event["enriched"] is True
        body = str(event["body"])
        assert event["entities"], event["title"]
        for entity in event["entities"]:  # type: ignore[attr-defined]
            for mention in entity["mentions"]:
                assert body[mention["start"] : mention["end"]] == mention["text"]
    strike = by_title["Rotterdam dock strike ends after talks with Maersk"]
    assert strike["url"] == "https://www.example-gazette.com/news/2026/03/02/harbour-strike-ends"
    assert strike["published_at"] == "2026-03-02T08:30:00+00:00"
    names = {e["name"] for e in strike["entities"]}  # type: ignore[attr-defined]
    assert {"Rotterdam", "Maersk", "Niels de Vries"} <= names
    rail = by_title["New rail link opens between Lisbon and Madrid"]
    assert "tracker" not in str(rail["body"])


def test_events_are_keyed_by_article_id(settings: Settings, worker: WorkerProcess) -> None:
    from kafka import KafkaConsumer

    push(settings, [(FIXTURES / "articles" / "harbour-strike.json").read_bytes()])
    (event,) = read_outputs(settings, 1)
    consumer = KafkaConsumer(
        settings.topic_enriched,
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    (message,) = [m for _, m in zip(range(1), consumer, strict=False)]
    consumer.close()
    assert message.key == str(event["id"]).encode()


BAD_INPUTS = {
    b"": "empty",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR": "binary",
    b'{"title": "Unclosed", "body": "no end"': "invalid_json",
    b"\xff\xfe\xfa bad utf-8 \xc3\x28 text": "not_decodable",
    b'{"title": "No body at all"}': "no_text",
}


def test_bad_input_is_dead_lettered_with_its_bytes_and_the_worker_goes_on(
    settings: Settings, worker: WorkerProcess
) -> None:
    oversized = b'{"body": "' + b"word " * (settings.max_message_bytes // 5) + b'"}'
    bad = {**BAD_INPUTS, oversized: "too_large"}
    valid = (FIXTURES / "articles" / "harbour-strike.json").read_bytes()
    push(settings, [*bad, valid])

    outputs = read_outputs(settings, len(bad) + 1)

    assert worker.alive, worker.log()
    letters = [DeadLetter.model_validate(o) for o in outputs if o["record_type"] == "deadletter"]
    assert {letter.original_bytes(): letter.reason.value for letter in letters} == bad
    for letter in letters:
        assert letter.topic == settings.topic_raw
        assert letter.partition is not None
        assert letter.offset is not None
        assert letter.message
    binary = next(letter for letter in letters if letter.reason == "not_decodable")
    assert binary.original_encoding == "base64"
    assert base64.b64decode(binary.original) == b"\xff\xfe\xfa bad utf-8 \xc3\x28 text"
    assert [o["title"] for o in outputs if o["record_type"] == "enriched"] == [
        "Rotterdam dock strike ends after talks with Maersk"
    ]


def _report(number: int) -> bytes:
    return orjson.dumps(
        {
            "title": f"Harbour report {number}",
            "body": f"Mayor Ann Lund praised the crews of Harlow harbour on day {number}. Critics"
            f" accused the Harlow Port Authority of wasting {number} million pounds.",
        }
    )


def test_a_backlog_is_scored_by_the_backlog_model_and_a_lone_article_by_the_main_one(
    tmp_path: Path, settings: Settings
) -> None:
    """Four articles waiting when the worker starts come in full batches of two (it is behind):
    the lite model scores them; one pushed once it has caught up comes alone: the main model."""
    pairs = settings.model_copy(update={"batch_size": 2, "partitions": 1})
    ensure_topics(pairs)
    push(pairs, [_report(n) for n in range(4)])
    worker = WorkerProcess(pairs, tmp_path / "backlog.log")
    worker.start()
    try:
        backlog = read_outputs(pairs, 4)
        assert [e["stance_model"] for e in backlog] == ["lite"] * 4, worker.log()
        push(pairs, [_report(4)])
        *_, lone = read_outputs(pairs, 5)
        assert lone["title"] == "Harbour report 4"
        assert lone["stance_model"] == "standard"
    finally:
        worker.stop()
