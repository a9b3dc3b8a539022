"""A real librdkafka client (confluent-kafka) against the real worker over TCP: records in every
codec, with headers, without a key, empty and null (tombstones) each get their one outcome;
undecodable record batches are dead-lettered and committed past, across a restart; the outputs
are compressed with MEDIAMON_COMPRESSION and every event a librdkafka consumer reads matches
the JSON Schema."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections import Counter
from pathlib import Path

import confluent_kafka
import jsonschema
import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import TopicPartition

from pipeline.settings import Settings
from pipeline.transport.broker import EmbeddedBroker
from pipeline.transport.client import ensure_topics
from tests.conftest import WorkerProcess, embedded_settings
from tests.faults.conftest import Output, Reader, wait_until
from tests.faults.payloads import expected_id, generate_articles
from tests.stream.test_batches import bad_crc, batch, claiming

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
ZSTD = 4


@pytest.fixture
def settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """This module's workers compress their outputs with zstd."""
    return embedded_settings(broker, tmp_path / "data").model_copy(update={"compression": "zstd"})


def librdkafka_producer(settings: Settings, codec: str) -> confluent_kafka.Producer:
    return confluent_kafka.Producer(
        {
            "bootstrap.servers": ",".join(settings.bootstrap_servers),
            "compression.type": codec,
            "linger.ms": 20,  # several records per batch, so that the codec is used
            "enable.idempotence": False,  # the embedded broker has no idempotent producer
        }
    )


def produce(
    settings: Settings, codec: str, records: list[tuple[bytes | None, bytes | None]]
) -> list[tuple[int, int]]:
    """Produce (key, value) pairs with ``codec`` and a header on each; where each landed."""
    producer = librdkafka_producer(settings, codec)
    landed: list[tuple[int, int]] = []
    errors: list[object] = []

    def delivered(error: object, message: confluent_kafka.Message) -> None:
        if error is not None:
            errors.append(error)
        else:
            partition, offset = message.partition(), message.offset()
            assert partition is not None
            assert offset is not None
            landed.append((partition, offset))

    for key, value in records:
        producer.produce(
            settings.topic_raw,
            value=value,
            key=key,
            headers=[("source", b"interop-test"), ("codec", codec.encode())],
            partition=0,
            on_delivery=delivered,
        )
    assert producer.flush(30) == 0
    assert errors == []
    return landed


def scrape(settings: Settings, name: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{settings.metrics_port}/metrics") as page:
        text: str = page.read().decode()
    return "\n".join(line for line in text.splitlines() if line.startswith(name))


async def _raw(settings: Settings, request: object, topic: str, partition: int) -> object:
    client = AIOKafkaClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        await client.bootstrap()
        await client.force_metadata_update()
        node = client.cluster.leader_for_partition(TopicPartition(topic, partition))
        return await client.send(node, request)
    finally:
        await client.close()


def produce_batch(settings: Settings, data: bytes) -> None:
    """Write one record batch exactly as given (as a broken producer would) to partition 0."""
    request = ProduceRequest(None, -1, 10_000, [(settings.topic_raw, [(0, data)])])
    response = asyncio.run(_raw(settings, request, settings.topic_raw, 0))
    ((_, partitions),) = response.topics  # type: ignore[attr-defined]
    assert partitions[0][1] == 0, partitions  # no error: the broker took it


def batch_codecs(settings: Settings, topic: str) -> list[int]:
    """The compression codec of every record batch in ``topic``, read off the wire."""
    codecs: list[int] = []
    for partition in range(settings.partitions):
        request = FetchRequest(100, 1, 1 << 24, 0, [(topic, [(partition, 0, 1 << 24)])])
        response = asyncio.run(_raw(settings, request, topic, partition))
        for _, parts in response.topics:  # type: ignore[attr-defined]
            for part in parts:
                records = MemoryRecords(bytes(part[-1]))
                while records.has_next():
                    codecs.append(records.next_batch().compression_type)
    return codecs


def librdkafka_read(settings: Settings, topic: str, count: int) -> list[dict[str, object]]:
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": ",".join(settings.bootstrap_servers),
            "group.id": f"{settings.app_id}-reader",
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = [
            confluent_kafka.TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING)
            for p in range(settings.partitions)
        ]
        consumer.assign(partitions)
        values: list[dict[str, object]] = []
        for _ in range(600):
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            value = message.value()
            assert isinstance(value, bytes)
            values.append(json.loads(value))
            if len(values) >= count:
                break
        return values
    finally:
        consumer.close()


def test_librdkafka_records_in_every_codec_get_one_outcome_each(
    settings: Settings, worker: WorkerProcess
) -> None:
    articles = iter(generate_articles(2 * len(CODECS), seed=23))
    sent: dict[tuple[int, int], tuple[str, bytes | None]] = {}
    for codec in CODECS:
        records: list[tuple[bytes | None, bytes | None]] = [
            (b"with-key", next(articles)),
            (None, next(articles)),  # no key
            (b"empty", b""),
            (b"deleted", None),  # a tombstone
            (None, b"[]"),  # an array with no article in it
        ]
        for where, (_, value) in zip(produce(settings, codec, records), records, strict=True):
            sent[where] = (codec, value)

    reader = Reader(settings)
    try:
        expected = sum(1 for _, value in sent.values() if value is not None)
        wait_until(lambda: reader.count() >= expected, 180, "an outcome of every record")
        outputs = reader.read_all()
    finally:
        reader.close()
    assert worker.alive, worker.log()
    assert len(outputs) == expected

    # one for one: each record's outcome, by where it landed or by the article it holds
    letters = {
        (o.letter().partition, o.letter().offset): o.letter() for o in outputs if not o.is_event
    }
    events = Counter(str(o.value["id"]) for o in outputs if o.is_event)
    for (partition, offset), (codec, value) in sent.items():
        if value is None:
            assert (partition, offset) not in letters, codec
        elif value in (b"", b"[]"):
            letter = letters.pop((partition, offset))
            assert letter.reason.value == ("empty" if value == b"" else "invalid_json"), codec
            assert letter.original_bytes() == value
        else:
            article = expected_id(value, settings.max_message_bytes)
            assert events[article] == 1, (codec, article)
            events[article] -= 1
    assert letters == {}
    assert sum(events.values()) == 0
    skipped = scrape(settings, "mediamon_messages_skipped_total")
    assert f'mediamon_messages_skipped_total{{reason="tombstone"}} {len(CODECS)}.0' in skipped

    # the outputs are compressed as the settings say, and a librdkafka consumer reads them
    assert set(batch_codecs(settings, settings.topic_enriched)) == {ZSTD}
    schema = json.loads((SCHEMAS / "enriched-event.v1.json").read_text())
    enriched = librdkafka_read(settings, settings.topic_enriched, 2 * len(CODECS))
    assert len(enriched) == 2 * len(CODECS)
    for event in enriched:
        jsonschema.validate(event, schema)


@pytest.mark.alone
def test_undecodable_batches_are_dead_lettered_and_committed_past(
    settings: Settings, tmp_path: Path
) -> None:
    s = settings.model_copy(update={"partitions": 1})
    ensure_topics(s)
    first, second, good = generate_articles(3, seed=29)
    not_zstd = claiming(ZSTD, batch([first, second]))
    corrupt = bad_crc(batch([first]))
    produce_batch(s, not_zstd)
    produce_batch(s, corrupt)
    produce(s, "lz4", [(None, good)])

    reader = Reader(s)
    worker = WorkerProcess(s, tmp_path / "worker.log")
    worker.start()
    try:
        wait_until(lambda: reader.count() >= 3, 180, "two dead letters and an event")
        wait_until(lambda: reader.committed().get(0) == 4, 60, "the offsets committed")
        assert worker.alive, worker.log()
        # after a restart, nothing is read again: the bad batches were committed past
        assert worker.stop() == 0
        worker.start()
        wait_until(lambda: worker.log().count("[^Worker]: Ready") == 2, 120, "the restart")
        (late,) = generate_articles(1, seed=31)
        produce(s, "zstd", [(None, late)])
        wait_until(lambda: reader.count() >= 4, 180, "the article after the restart")
        outputs: list[Output] = reader.read_all()
    finally:
        reader.close()
        worker.stop()

    letters = sorted((o.letter() for o in outputs if not o.is_event), key=lambda d: d.offset or 0)
    assert [(letter.reason.value, letter.offset) for letter in letters] == [
        ("undecodable_batch", 1),  # the two-record batch, by its last offset
        ("undecodable_batch", 2),
    ]
    # the batch's bytes from the magic byte on (the broker sets the offsets before it)
    assert letters[0].original_bytes()[16:] == not_zstd[16:]
    assert letters[1].original_bytes()[16:] == corrupt[16:]
    assert "could not be decoded" in letters[0].message
    events = [str(o.value["id"]) for o in outputs if o.is_event]
    assert events == [expected_id(v, s.max_message_bytes) for v in (good, late)]
