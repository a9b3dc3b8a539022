"""Record batches of the ingest topic that the consumer cannot decode (a compressed payload that
does not decompress, a wrong CRC, a malformed record) become one stand-in record each, which
the enrich agent dead-letters with the reason ``undecodable_batch``.

Without this, aiokafka's fetcher raises the error to Faust's consumer, which crashes the
worker; the batch is never committed, so every restart fetches it again and crashes again,
and one bad batch stops every worker of the group for good. With it, the stand-in carries
the batch's bytes and the batch's last offset (committing it moves past the batch) and a
header only this process knows, so no producer can forge one.

aiokafka builds its per-partition record iterators from module-level names of its fetcher;
:func:`guard` replaces two of them (by subclasses) for the topics it is given, and leaves
every other topic (the tables' changelogs among them) exactly as aiokafka reads it."""

from __future__ import annotations

import logging
import secrets
import struct
import time
from collections.abc import Iterable, Iterator
from typing import Any

from aiokafka.consumer import fetcher
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import ConsumerRecord

log = logging.getLogger(__name__)

MARKER = f"mediamon-undecodable-{secrets.token_hex(8)}"
"""The header key of a stand-in record (random per process: a producer cannot forge it)."""

_guarded: set[str] = set()
_FRAME = struct.Struct(">qi")  # base offset, batch length: every message format starts so
_LAST_DELTA = struct.Struct(">i")  # the last offset's delta, at byte 23 of a v2 batch
_MAGIC_AT = 16
_LAST_DELTA_AT = 23


class _KeptRecords(MemoryRecords):  # type: ignore[misc]  # aiokafka is untyped
    """aiokafka's records of one fetched partition, keeping the bytes they were read from."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.data = data


class _GuardedPartitionRecords(fetcher.PartitionRecords):  # type: ignore[misc]
    """aiokafka's iterator over one fetched partition; for a guarded topic, a batch it fails
    to decode ends the iteration with a stand-in record for that batch."""

    _tp: Any
    _records_iterator: Iterator[Any]
    next_fetch_offset: int

    def __init__(self, tp: Any, records: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(tp, records, *args, **kwargs)
        if tp.topic in _guarded:
            data = records.data if isinstance(records, _KeptRecords) else b""
            self._records_iterator = self._guarded(self._records_iterator, data)

    def _guarded(self, records: Iterator[Any], data: bytes) -> Iterator[Any]:
        try:
            yield from records
        except Exception as exc:
            start = self.next_fetch_offset  # the first offset not delivered
            last, raw = failed_batch(data, start)
            self.next_fetch_offset = last + 1
            log.error(
                "%s[%d]: could not decode the record batch at offsets %d-%d (%r);"
                " dead-lettering its %d bytes",
                self._tp.topic,
                self._tp.partition,
                start,
                last,
                exc,
                len(raw),
            )
            yield stand_in(self._tp.topic, self._tp.partition, last, raw, exc)


def failed_batch(data: bytes, offset: int) -> tuple[int, bytes]:
    """The last offset and the bytes of the batch in ``data`` (a fetch response's records of
    one partition) that holds ``offset``; ``(offset, b"")`` when its framing cannot be read."""
    for base, frame in frames(data):
        last = base
        if len(frame) > _LAST_DELTA_AT + _LAST_DELTA.size and frame[_MAGIC_AT] == 2:
            last = base + _LAST_DELTA.unpack_from(frame, _LAST_DELTA_AT)[0]
        if last >= offset:
            return last, frame
    return offset, b""


def frames(data: bytes) -> Iterable[tuple[int, bytes]]:
    """Each complete batch of ``data`` with its base offset (a truncated last one is left out,
    as brokers cut fetch responses mid-batch)."""
    position = 0
    while position + _FRAME.size <= len(data):
        base, length = _FRAME.unpack_from(data, position)
        end = position + _FRAME.size + length
        if length < 0 or end > len(data):
            return
        yield base, data[position:end]
        position = end


def stand_in(topic: str, partition: int, offset: int, raw: bytes, error: Exception) -> Any:
    """The record standing for an undecodable batch: its bytes as the value, the error in the
    :data:`MARKER` header, the batch's last offset (committing it moves past the batch)."""
    reason = repr(error).encode("utf-8", "replace")
    now_ms = int(time.time() * 1000)
    return ConsumerRecord(
        topic, partition, offset, now_ms, 0, None, raw, None, -1, len(raw), ((MARKER, reason),)
    )


def undecodable(headers: object) -> str | None:
    """The decoding error of a stand-in record, from its headers; None for any other record."""
    items = headers.items() if isinstance(headers, dict) else headers
    if not isinstance(items, Iterable):
        return None
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and item[0] == MARKER:
            value = item[1]
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return None


def guard(topics: Iterable[str]) -> None:
    """Read ``topics`` through the guarded iterator from now on (idempotent)."""
    _guarded.update(topics)
    fetcher.MemoryRecords = _KeptRecords
    fetcher.PartitionRecords = _GuardedPartitionRecords
