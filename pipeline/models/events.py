"""The wire events: enriched articles, dead-letter records, trends and alerts, and encode."""

from __future__ import annotations

import base64
from datetime import datetime
from enum import StrEnum
from typing import Literal

import orjson
from pydantic import AwareDatetime, Field

from pipeline import __version__
from pipeline.models.base import (
    SCHEMA_VERSION,
    Model,
    Offset,
    Score,
    Sentiment,
)
from pipeline.models.records import RawRecord, Reason


class EntityType(StrEnum):
    """CoNLL-style entity types."""

    PER = "PER"
    ORG = "ORG"
    LOC = "LOC"
    MISC = "MISC"


class Source(Model):
    """The publisher of an article."""

    domain: str | None = Field(None, description="Registered domain, e.g. 'themoscowtimes.com'.")
    name: str | None = Field(None, description="Human name of the outlet when known.")


class Article(Model):
    """A normalised article: the output of the normalise stage, input of the enrichment stages."""

    url: str | None = None
    source: Source = Field(default_factory=Source)
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: AwareDatetime | None = None
    language: str | None = Field(None, description="Declared by the input, if any.")
    body: str
    external_id: str | None = Field(None, description="The producer's own id, if it sent one.")


class Span(Model):
    """A character range ``[start, end)`` of the event's ``body``."""

    start: Offset
    end: Offset


class Mention(Span):
    """One occurrence of an entity in the body."""

    text: str
    type: EntityType
    sentiment: Sentiment | None = Field(
        None,
        description="Sentiment towards the entity in context; null until measured.",
    )


class Entity(Model):
    """An entity of the article with all its mentions."""

    id: str = Field(description="Canonical id: a knowledge-base id or an article-local one.")
    name: str
    type: EntityType
    salience: Score = Field(description="How central the entity is to the story, 0..1.")
    sentiment: Sentiment | None = None
    mentions: list[Mention]


class Location(Model):
    """A place the story names, resolved in the gazetteer: a city, a first-level region or a
    country, with its coordinates and the mentions that name it."""

    id: str = Field(
        description="Wikidata QID ('Q87'), else 'geonames:<id>', else 'csc:<id>' (the"
        " countries-states-cities database's id)."
    )
    name: str
    kind: Literal["city", "region", "country"]
    country: str = Field(description="ISO 3166-1 alpha-2 code.")
    admin1: str | None = Field(
        None, description="Name of the first-level region of a city; null for others."
    )
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    mentions: list[Span] = Field(description="Where `body` names it.")


class Quote(Span):
    """Something said, with its speaker."""

    text: str
    speaker: str | None = None
    speaker_id: str | None = None
    cue: str | None = None
    direct: bool


class Stance(Model):
    """``holder`` expresses ``polarity`` towards ``target``, with the text that shows it."""

    holder: str
    holder_id: str | None = None
    target: str
    target_id: str | None = None
    polarity: Literal[-1, 0, 1]
    score: Score
    evidence: list[Span]


class TopicEvidence(Model):
    """Why a topic was given: the rule or model that fired and what it fired on."""

    rule: str = Field(
        description="'iptc:model', 'iptc:lexicon', 'iptc:entities', or a taxonomy rule id"
        " such as 'tag:us-russia-relations#actors'."
    )
    entities: list[str] = Field(
        default_factory=list,
        description="Ids of the entities (see `entities`) that fired it.",
    )
    terms: list[str] = Field(
        default_factory=list, description="Keywords or model words that fired it."
    )
    sentences: list[Span] = Field(
        default_factory=list, description="Sentences of `body` that fired it."
    )


class Topic(Model):
    """A topic tag: an IPTC Media Topic or a subject tag from the taxonomy."""

    id: str = Field(description="e.g. 'medtop:11000000' or 'tag:us-russia-relations'.")
    label: str
    scheme: Literal["iptc", "mediamon"] = Field(
        description="'iptc' (IPTC Media Topics) or 'mediamon' (a tag of the taxonomy)."
    )
    score: Score
    parent: str | None = Field(
        None,
        description="The broader IPTC code of a second-level code; null otherwise.",
    )
    evidence: list[TopicEvidence] = Field(
        default_factory=list, description="One item per rule that fired."
    )


class EnrichedEvent(Model):
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
    stance_model: str | None = Field(
        None,
        description="The stance classifier that scored the mentions and stances, as the"
        " worker's settings name it ('standard', 'fast', 'lite' or a directory); the backlog"
        " model's name (MEDIAMON_STANCE_BACKLOG_MODEL, 'lite' by default) marks an article"
        " scored while the worker was behind. None when the stance stage did not run.",
    )
    topics: list[Topic]
    places: list[str] = Field(description="ISO 3166-1 alpha-2 codes of the story's countries.")
    locations: list[Location] = Field(
        default_factory=list,
        description="The places the story names, resolved in the gazetteer (cities, regions,"
        " countries), in order of first mention.",
    )
    enriched_with: dict[str, str] = Field(
        default_factory=dict,
        description="Each article stage that ran, and the language of the model it ran with:"
        " 'en', 'multilingual' (one model for every other language), or 'any' (a stage that"
        " reads every language alike). A stage missing here did not run for the article's"
        " language (say, stance outside English).",
    )
    pipeline_version: str = __version__


class DeadLetter(Model):
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


class TrendKind(StrEnum):
    """What a trend counts: an entity (by canonical id), a topic tag (by topic id) or a
    location (by gazetteer id)."""

    ENTITY = "entity"
    TAG = "tag"
    LOCATION = "location"


class Trend(Model):
    """Published to the trends topic (keyed by ``kind:id``): a term's count in one tumbling
    window against its recent baseline, as of ``updated_at``; published again whenever the
    count changes, so the latest record of a (term, window) is the one that holds."""

    record_type: Literal["trend"] = "trend"
    schema_version: Literal[1] = SCHEMA_VERSION
    kind: TrendKind
    id: str = Field(
        description="Entity id ('Q7747', 'local:per:...'), topic id or location id"
        " ('Q87', 'geonames:4314550')."
    )
    label: str = Field(description="The entity's name or the topic's label.")
    window_start: AwareDatetime
    window_end: AwareDatetime = Field(description="Exclusive.")
    count: int = Field(ge=0, description="Articles naming the term in the window.")
    baseline_mean: float = Field(ge=0.0, description="Mean count over the previous windows.")
    burst: float = Field(
        description="(count - expected) / sqrt(expected + 1), expected = baseline_mean times"
        " the elapsed share of the window."
    )
    updated_at: AwareDatetime
    pipeline_version: str = __version__


Outcome = EnrichedEvent | DeadLetter


def _as_text(value: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
    try:
        return value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii"), "base64"


def encode(outcome: Model) -> bytes:
    """The JSON bytes published for an event, a dead-letter record, an alert, a trend or a
    feed reader's record."""
    return orjson.dumps(outcome.model_dump())


class EntityRef(Model):
    """An entity of the article, without its mentions."""

    id: str
    name: str
    type: EntityType
    salience: Score


class Evidence(Model):
    """Why one condition of a rule holds, pointing into the article's body."""

    condition: Literal["entities", "topics", "locations", "stances", "quotes", "source", "language"]
    index: int = Field(0, ge=0, description="Which condition of that list in the rule, from 0.")
    summary: str = Field(description="The evidence in words.")
    entity: EntityRef | None = None
    mentions: list[Mention] = Field(
        default_factory=list,
        description="The mentions that fired, with offsets into the body.",
    )
    quote: Quote | None = None
    stance: Stance | None = None
    topic: Topic | None = None


class Alert(Model):
    """Published to the alerts topic (keyed by article id) when an article matches a rule."""

    record_type: Literal["alert"] = "alert"
    schema_version: Literal[1] = SCHEMA_VERSION
    rule_id: str
    rule_description: str
    article_id: str
    url: str | None
    title: str | None
    source: Source
    language: str | None
    published_at: AwareDatetime | None
    duplicate_of: str | None
    evidence: list[Evidence] = Field(description="For every condition, what satisfied it.")
    matched_at: AwareDatetime
    pipeline_version: str = __version__
