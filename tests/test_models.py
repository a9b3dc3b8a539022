"""The published records and their JSON Schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from pipeline.models import DeadLetter, RawRecord, Reason, encode
from pipeline.schemas import SCHEMAS, render

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_dead_letter_keeps_utf8_input_as_text() -> None:
    letter = DeadLetter.of(RawRecord(value="Grüße".encode()), Reason.NO_TEXT, "m", NOW)
    assert letter.original_encoding == "utf-8"
    assert letter.original == "Grüße"
    assert letter.original_bytes() == "Grüße".encode()


def test_dead_letter_keeps_non_utf8_input_as_base64_exactly() -> None:
    raw = bytes(range(256))
    letter = DeadLetter.of(RawRecord(value=raw, key=b"k"), Reason.BINARY, "m", NOW)
    assert letter.original_encoding == "base64"
    assert letter.original_bytes() == raw
    assert letter.original_key == "k"


def test_encoded_dead_letter_parses_back_to_the_same_record() -> None:
    record = RawRecord(value=b"\xff", topic="t", partition=1, offset=7)
    letter = DeadLetter.of(record, Reason.NOT_DECODABLE, "bad bytes", NOW)
    parsed = orjson.loads(encode(letter))
    assert parsed["record_type"] == "deadletter"
    assert parsed["failed_at"] == "2026-01-02T03:04:05+00:00"
    assert DeadLetter.model_validate(parsed) == letter


def test_committed_schemas_are_up_to_date() -> None:
    for name, model in SCHEMAS.items():
        committed = (SCHEMA_DIR / name).read_bytes()
        assert committed == render(model), f"schemas/{name} is stale: run `make schemas`"
