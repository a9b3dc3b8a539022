"""The data Mediamon passes around: raw records in, normalised articles, enriched events and
dead-letter records out. All pydantic models live here; ``schemas/`` is generated from them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pipeline import __version__

SCHEMA_VERSION: Literal[1] = 1

Score = Annotated[float, Field(ge=0.0, le=1.0)]
Sentiment = Annotated[float, Field(ge=-1.0, le=1.0)]
Offset = Annotated[int, Field(ge=0)]


class EntityType(StrEnum):
    """CoNLL-style entity types."""

    PER = "PER"
    ORG = "ORG"
    LOC = "LOC"
    MISC = "MISC"


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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Source(_Model):
    """The publisher of an article."""

    domain: str | None = Field(None, description="Registered domain, e.g. 'themoscowtimes.com'.")
    name: str | None = Field(None, description="Human name of the outlet when known.")


class Article(_Model):
    """A normalised article: the output of the normalise stage, input of the enrichment stages."""

    url: str | None = None
    source: Source = Field(default_factory=Source)
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: AwareDatetime | None = None
    language: str | None = Field(None, description="Declared by the input, if any.")
    body: str
    external_id: str | None = Field(None, description="The producer's own id, if it sent one.")


class Span(_Model):
    """A character range ``[start, end)`` of the event's ``body``."""

    start: Offset
    end: Offset


class Mention(Span):
    """One occurrence of an entity in the body."""

    text: str
    type: EntityType
    sentiment: Sentiment | None = Field(
        None, description="Sentiment towards the entity in context; null until measured."
    )


class Entity(_Model):
    """An entity of the article with all its mentions."""

    id: str = Field(description="Canonical id: a knowledge-base id or an article-local one.")
    name: str
    type: EntityType
    salience: Score = Field(description="How central the entity is to the story, 0..1.")
    sentiment: Sentiment | None = None
    mentions: list[Mention]


class Quote(Span):
    """Something said, with its speaker."""

    text: str
    speaker: str | None = None
    speaker_id: str | None = None
    cue: str | None = None
    direct: bool


class Stance(_Model):
    """``holder`` expresses ``polarity`` towards ``target``, with the text that shows it."""

    holder: str
    holder_id: str | None = None
    target: str
    target_id: str | None = None
    polarity: Literal[-1, 0, 1]
    score: Score
    evidence: list[Span]


class Topic(_Model):
    """A topic tag: an IPTC Media Topic or a subject tag from the taxonomy."""

    id: str = Field(description="e.g. 'medtop:11000000' or 'tag:us-russia-relations'.")
    label: str
    scheme: str
    score: Score


class EnrichedEvent(_Model):
    """The event published to the enriched topic, keyed by ``id``."""

    record_type: Literal["enriched"] = "enriched"
    schema_version: Literal[1] = SCHEMA_VERSION
    id: str = Field(description="Stable article id: from the canonical URL, else the content.")
    url: str | None
    source: Source
    title: str | None
    authors: list[str]
    published_at: AwareDatetime | None = Field(description="Publication time, UTC.")
    ingested_at: AwareDatetime = Field(description="When the raw message entered the pipeline.")
    processed_at: AwareDatetime
    language: str | None = Field(description="ISO 639-1 code of the detected language.")
    enriched: bool = Field(description="False when the NLP stages were skipped (see reason).")
    not_enriched_reason: str | None = None
    body: str = Field(description="Clean plain text; all offsets point into it.")
    word_count: int
    content_hash: str = Field(description="SHA-256 of the normalised body.")
    duplicate_of: str | None = Field(description="Id of the first copy when this is a duplicate.")
    entities: list[Entity]
    quotes: list[Quote]
    stances: list[Stance]
    topics: list[Topic]
    places: list[str] = Field(description="ISO 3166-1 alpha-2 codes of the story's countries.")
    pipeline_version: str = __version__


class DeadLetter(_Model):
    """A rejected input, published to the dead-letter topic with everything needed to replay it."""

    record_type: Literal["deadletter"] = "deadletter"
    schema_version: Literal[1] = SCHEMA_VERSION
    reason: Reason
    message: str
    original: str = Field(description="The original message value, as text or base64.")
    original_encoding: Literal["utf-8", "base64"]
    original_key: str | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    failed_at: AwareDatetime
    pipeline_version: str = __version__

    @classmethod
    def of(cls, record: RawRecord, reason: Reason, message: str, at: datetime) -> DeadLetter:
        """Build the dead-letter record for ``record``, keeping its bytes exactly."""
        original, encoding = _as_text(record.value)
        key = None if record.key is None else _as_text(record.key)[0]
        return cls(
            reason=reason,
            message=message,
            original=original,
            original_encoding=encoding,
            original_key=key,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            failed_at=at,
        )

    def original_bytes(self) -> bytes:
        """The exact bytes of the rejected message."""
        if self.original_encoding == "base64":
            return base64.b64decode(self.original)
        return self.original.encode("utf-8")


Outcome = EnrichedEvent | DeadLetter


def _as_text(value: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
    try:
        return value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii"), "base64"


def encode(outcome: Outcome) -> bytes:
    """The JSON bytes published for an event or a dead-letter record."""
    return orjson.dumps(outcome.model_dump())
