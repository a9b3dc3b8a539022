"""The data Mediamon passes around: raw records in, normalised articles, enriched events and
dead-letter records out. All pydantic models live here; ``schemas/`` is generated from them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from pipeline import __version__

SCHEMA_VERSION: Literal[1] = 1

Score = Annotated[float, Field(ge=0.0, le=1.0)]
Sentiment = Annotated[float, Field(ge=-1.0, le=1.0)]

THRESHOLD = 0.2
"""A sentiment below -THRESHOLD reads as negative, above THRESHOLD as positive."""


def polarity(score: float) -> Literal[-1, 0, 1]:
    """-1, 0 or 1: the reading of a sentiment score."""
    return -1 if score < -THRESHOLD else (1 if score > THRESHOLD else 0)


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


class TopicEvidence(_Model):
    """Why a topic was given: the rule or model that fired and what it fired on."""

    rule: str = Field(
        description="'iptc:model', 'iptc:lexicon', 'iptc:entities', or a taxonomy rule id"
        " such as 'tag:us-russia-relations#actors'."
    )
    entities: list[str] = Field(
        default_factory=list, description="Ids of the entities (see `entities`) that fired it."
    )
    terms: list[str] = Field(
        default_factory=list, description="Keywords or model words that fired it."
    )
    sentences: list[Span] = Field(
        default_factory=list, description="Sentences of `body` that fired it."
    )


class Topic(_Model):
    """A topic tag: an IPTC Media Topic or a subject tag from the taxonomy."""

    id: str = Field(description="e.g. 'medtop:11000000' or 'tag:us-russia-relations'.")
    label: str
    scheme: Literal["iptc", "mediamon"] = Field(
        description="'iptc' (IPTC Media Topics) or 'mediamon' (a tag of the taxonomy)."
    )
    score: Score
    parent: str | None = Field(
        None, description="The broader IPTC code of a second-level code; null otherwise."
    )
    evidence: list[TopicEvidence] = Field(
        default_factory=list, description="One item per rule that fired."
    )


# The IPTC code table and lexicons (pipeline/data/iptc_topics.yaml)

IptcCodeId = Annotated[str, Field(pattern=r"^medtop:\d{8}$")]


class IptcCode(_Model):
    """One IPTC Media Topic with its label, parent and Mediamon's lexicon for it."""

    label: str
    parent: IptcCodeId | None = None
    bias: float | None = Field(
        None, description="Logit with no evidence; unset: the model's (learned codes) or -3.5/-2."
    )
    terms: dict[str, float] = Field(default_factory=dict)
    entities: dict[str, float] = Field(
        default_factory=dict,
        description="'kind:<kb kind>', 'role:<office title>' or an entity id, with a weight.",
    )


class IptcCodeTable(_Model):
    """The IPTC stage's code table: every code it gives, keyed by code."""

    codes: dict[IptcCodeId, IptcCode]

    @model_validator(mode="after")
    def _parents_exist(self) -> IptcCodeTable:
        for code, spec in self.codes.items():
            if spec.parent is not None and spec.parent not in self.codes:
                raise ValueError(f"{code}: unknown parent {spec.parent}")
        return self


# The taxonomy of subject tags (pipeline/data/taxonomy.yaml, MEDIAMON_TAXONOMY_PATH)

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")]
ActorSide = Annotated[
    list[Annotated[str, Field(min_length=1)]],
    Field(
        min_length=1,
        description="ISO 3166-1 alpha-2 codes (the country, its capital, government,"
        " legislature and office-holders) and entity ids.",
    ),
]


class TagRule(_Model):
    """Fires when every condition it sets holds (it must set at least one)."""

    id: str | None = Field(
        None, description="Rule id reported in the evidence; default '<tag id>#<conditions>'."
    )
    places: list[CountryCode] = Field(
        default_factory=list, description="Any of these countries is a place of the story."
    )
    entities: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Any of these entity ids is in the story, at least min_salience salient"
        " and named at least min_mentions times.",
    )
    actors: tuple[ActorSide, ActorSide] | None = Field(
        None,
        description="Two sides, each at least min_salience salient in total, named together"
        " in at least min_sentences sentences (the title counts as one).",
    )
    keywords: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Any of these words or phrases is in the title or body (case-insensitive).",
    )
    iptc: list[Annotated[str, Field(pattern=r"^medtop:\d{8}$")]] = Field(
        default_factory=list, description="The story has any of these IPTC codes."
    )
    min_salience: Score = 0.0
    min_mentions: int = Field(1, ge=1)
    min_sentences: int = Field(2, ge=1)

    @model_validator(mode="after")
    def _has_condition(self) -> TagRule:
        if not (self.places or self.entities or self.actors or self.keywords or self.iptc):
            raise ValueError("a rule needs places, entities, actors, keywords or iptc")
        return self

    def conditions(self) -> list[str]:
        """The names of the conditions this rule sets, in a fixed order."""
        names = ("places", "entities", "actors", "keywords", "iptc")
        return [name for name in names if getattr(self, name)]


class Tag(_Model):
    """A subject tag and the rules that give it (any one is enough)."""

    id: str = Field(pattern=r"^tag:[a-z0-9][a-z0-9-]*$", description="e.g. 'tag:syria'.")
    label: str = Field(min_length=1)
    kind: Literal["country", "region", "organisation", "relationship", "conflict", "issue"]
    rules: list[TagRule] = Field(min_length=1)
    enabled: bool = Field(True, description="False removes a tag of the taxonomy extended.")


class Taxonomy(_Model):
    """A taxonomy file: the shipped one, or a user's that extends or replaces it."""

    version: Literal[1] = 1
    tags: list[Tag]

    @model_validator(mode="after")
    def _unique_ids(self) -> Taxonomy:
        seen: set[str] = set()
        for tag in self.tags:
            if tag.id in seen:
                raise ValueError(f"tag {tag.id} is defined twice")
            seen.add(tag.id)
        return self


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
    stance_model: str | None = Field(
        None,
        description="The stance classifier that scored the mentions and stances, as the"
        " worker's settings name it ('standard', 'fast', 'lite' or a directory); the backlog"
        " model's name (MEDIAMON_STANCE_BACKLOG_MODEL, 'lite' by default) marks an article"
        " scored while the worker was behind. None when the stance stage did not run.",
    )
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


class TrendKind(StrEnum):
    """What a trend counts: an entity (by canonical id) or a topic tag (by topic id)."""

    ENTITY = "entity"
    TAG = "tag"


class Trend(_Model):
    """Published to the trends topic (keyed by ``kind:id``): a term's count in one tumbling
    window against its recent baseline, as of ``updated_at``; published again whenever the
    count changes, so the latest record of a (term, window) is the one that holds."""

    record_type: Literal["trend"] = "trend"
    schema_version: Literal[1] = SCHEMA_VERSION
    kind: TrendKind
    id: str = Field(description="Entity id ('Q7747', 'local:per:...') or topic id.")
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


def encode(outcome: Outcome | Alert | Trend) -> bytes:
    """The JSON bytes published for an event, a dead-letter record, an alert or a trend."""
    return orjson.dumps(outcome.model_dump())


# Watch rules and alerts

RuleId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        description="Letters, digits and . _ : - (up to 128, starting with a letter or digit).",
    ),
]
Ref = Annotated[str, Field(min_length=1, description="An entity id (e.g. 'Q7747') or a name.")]
Polarity = Literal["negative", "neutral", "positive"]


class EntityCondition(_Model):
    """The story has an entity named by any of ``any``, at least ``min_salience`` salient."""

    any: list[Ref] = Field(
        min_length=1,
        description="Entity ids or names (a name matches the entity's name or any of its"
        " mentions, case-insensitively).",
    )
    min_salience: Score = 0.0


class TopicCondition(_Model):
    """The story carries a topic named by any of ``any``, scoring at least ``min_score``."""

    any: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1,
        description="Topic ids ('medtop:16000000', 'tag:syria') or labels (case-insensitive).",
    )
    min_score: Score = 0.0


class StanceCondition(_Model):
    """A holder's stance towards a target: a published stance, or the sentiment of the target's
    mentions inside a quote by the holder. An empty list matches anyone."""

    holder: list[Ref] = Field(default_factory=list, description="Any of these holds the stance.")
    target: list[Ref] = Field(default_factory=list, description="Towards any of these.")
    polarity: Polarity | None = Field(None, description="None matches any polarity.")
    min_score: Score = Field(
        0.0, description="The stance's score, or the strength |sentiment| of a mention."
    )
    quoted: bool = Field(
        False, description="Only stances whose evidence lies inside a quote by their holder."
    )


class QuoteCondition(_Model):
    """The story quotes a speaker named by any of ``speaker`` (empty: anyone), optionally only
    direct (or reported) quotes, optionally only quotes mentioning any of ``about``."""

    speaker: list[Ref] = Field(default_factory=list)
    direct: bool | None = None
    about: list[Ref] = Field(default_factory=list)


class WatchRule(_Model):
    """A watch rule: the story must satisfy every condition given (AND); within a condition,
    any of its listed values will do (OR)."""

    id: RuleId
    description: str = ""
    entities: list[EntityCondition] = Field(
        default_factory=list, description="Each must hold (AND)."
    )
    topics: list[TopicCondition] = Field(default_factory=list, description="Each must hold.")
    stances: list[StanceCondition] = Field(default_factory=list, description="Each must hold.")
    quotes: list[QuoteCondition] = Field(default_factory=list, description="Each must hold.")
    source: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Any of these source domains (subdomains included) or outlet names.",
    )
    language: list[Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}$")]] = Field(
        default_factory=list, description="Any of these ISO 639 language codes."
    )
    duplicates: bool = Field(False, description="Also alert on copies of an article already seen.")

    @model_validator(mode="after")
    def _has_a_condition(self) -> WatchRule:
        if not (
            self.entities
            or self.topics
            or self.stances
            or self.quotes
            or self.source
            or self.language
        ):
            raise ValueError("a rule needs at least one condition, or it would match everything")
        return self


class EntityRef(_Model):
    """An entity of the article, without its mentions."""

    id: str
    name: str
    type: EntityType
    salience: Score


class Evidence(_Model):
    """Why one condition of a rule holds, pointing into the article's body."""

    condition: Literal["entities", "topics", "stances", "quotes", "source", "language"]
    index: int = Field(0, ge=0, description="Which condition of that list in the rule, from 0.")
    summary: str = Field(description="The evidence in words.")
    entity: EntityRef | None = None
    mentions: list[Mention] = Field(
        default_factory=list, description="The mentions that fired, with offsets into the body."
    )
    quote: Quote | None = None
    stance: Stance | None = None
    topic: Topic | None = None


class Alert(_Model):
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
