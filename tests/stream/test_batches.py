"""Undecodable record batches: framing, the failed batch's offsets and bytes, and aiokafka's own
iterator over real batch bytes turning a bad batch into a stand-in only on guarded topics."""

from __future__ import annotations

import struct

import pytest
from aiokafka.consumer import fetcher
from aiokafka.errors import CorruptRecordException
from aiokafka.record._crc32c import crc as crc32c
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.structs import TopicPartition

from pipeline.stream.batches import MARKER, failed_batch, frames, guard, undecodable

ZSTD = 4


def batch(values: list[bytes], base_offset: int = 0) -> bytes:
    """A v2 record batch of ``values`` starting at ``base_offset``, uncompressed."""
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for delta, value in enumerate(values):
        builder.append(delta, timestamp=None, key=None, value=value, headers=[])
    data = bytearray(builder.build())
    data[0:8] = struct.pack(">q", base_offset)
    return bytes(data)


def claiming(codec: int, data: bytes) -> bytes:
    """``data`` with its attributes claiming ``codec`` and a CRC that matches (the payload is
    not compressed: it cannot be decompressed)."""
    out = bytearray(data)
    attributes = struct.unpack(">h", out[21:23])[0]
    out[21:23] = struct.pack(">h", (attributes & ~7) | codec)
    out[17:21] = struct.pack(">I", crc32c(bytes(out[21:])))
    return bytes(out)


def bad_crc(data: bytes) -> bytes:
    out = bytearray(data)
    out[-2] ^= 0xFF
    return bytes(out)


def read(topic: str, data: bytes, fetch_offset: int = 0) -> list[object]:
    """What aiokafka's fetcher makes of ``data`` fetched from ``topic`` partition 0."""
    records = fetcher.MemoryRecords(data)
    partition = fetcher.PartitionRecords(
        TopicPartition(topic, 0), records, None, fetch_offset, None, None, True, 0
    )
    return list(partition)


def test_frames_gives_each_complete_batch_and_leaves_a_truncated_one_out() -> None:
    first, second = batch([b"a", b"b"]), batch([b"c"], base_offset=2)
    data = first + second + second[:20]
    assert list(frames(data)) == [(0, first), (2, second)]


def test_failed_batch_is_the_batch_holding_the_offset_with_its_last_offset() -> None:
    first, second = batch([b"a", b"b", b"c"]), batch([b"d", b"e"], base_offset=3)
    data = first + second
    assert failed_batch(data, 1) == (2, first)
    assert failed_batch(data, 3) == (4, second)
    assert failed_batch(data, 9) == (9, b"")  # beyond the data: that offset alone


def test_undecodable_reads_only_the_marker_header() -> None:
    assert undecodable(((MARKER, b"DecompressionError()"),)) == "DecompressionError()"
    assert undecodable([("mediamon-undecodable", b"forged"), ("x", b"y")]) is None
    assert undecodable(None) is None
    assert undecodable({MARKER: b"e"}) == "e"


@pytest.mark.parametrize(
    ("damage", "error"),
    [(lambda d: claiming(ZSTD, d), "Decompress"), (bad_crc, "CRC")],
    ids=["zstd-that-is-not", "bad-crc"],
)
def test_a_guarded_topic_reads_a_bad_batch_as_one_stand_in(damage: object, error: str) -> None:
    guard(["guarded.raw"])
    good, bad = batch([b"one", b"two"]), batch([b"three", b"four", b"five"], base_offset=2)
    after = batch([b"six"], base_offset=5)
    assert callable(damage)
    data = good + damage(bad) + after

    records = read("guarded.raw", data)

    assert [r.value for r in records[:2]] == [b"one", b"two"]  # type: ignore[attr-defined]
    stand_in = records[2]
    assert stand_in.offset == 4  # type: ignore[attr-defined]  # the bad batch's last offset
    assert stand_in.value == damage(bad)  # type: ignore[attr-defined]
    reason = undecodable(stand_in.headers)  # type: ignore[attr-defined]
    assert reason is not None
    assert error in reason
    assert len(records) == 3  # the batch after it is fetched again, from offset 5


def test_an_unguarded_topic_still_raises_as_aiokafka_does() -> None:
    guard(["guarded.raw"])
    data = batch([b"one"]) + bad_crc(batch([b"two"], base_offset=1))
    with pytest.raises(CorruptRecordException):
        read("someone.elses.changelog", data)


def test_a_guarded_topic_still_reads_good_batches_unchanged() -> None:
    guard(["guarded.raw"])
    data = batch([b"one", b"two"]) + batch([b"three"], base_offset=2)
    records = read("guarded.raw", data)
    assert [(r.offset, r.value) for r in records] == [  # type: ignore[attr-defined]
        (0, b"one"),
        (1, b"two"),
        (2, b"three"),
    ]
