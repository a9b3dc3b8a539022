"""The input side: raw records as they come in, and why one is rejected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Reason(StrEnum):
    """Machine-readable reasons an input record is dead-lettered."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_DECODABLE = "not_decodable"
    BINARY = "binary"
    INVALID_JSON = "invalid_json"
    INVALID_FIELD = "invalid_field"
    NO_TEXT = "no_text"
    INTERNAL_ERROR = "internal_error"
    UNDECODABLE_BATCH = "undecodable_batch"


class Rejected(Exception):
    """Raised by a stage when an input cannot become an article; carries the dead-letter reason."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One ingest message as it came off the wire (or out of a file, offline)."""

    value: bytes
    key: bytes | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp: datetime | None = None
    origin: str | None = field(default=None, compare=False)
    """Where an offline record came from (a file name), used to guess its format."""
