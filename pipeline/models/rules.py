"""Rule-file schemas: the IPTC code table, the taxonomy of subject tags and watch rules."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pipeline.models.base import Model, Score

# The IPTC code table and lexicons (pipeline/data/iptc_topics.yaml)

IptcCodeId = Annotated[str, Field(pattern=r"^medtop:\d{8}$")]


class IptcCode(Model):
    """One IPTC Media Topic with its label, parent and Mediamon's lexicon for it."""

    label: str
    parent: IptcCodeId | None = None
    bias: float | None = Field(
        None,
        description="Logit with no evidence; unset: the model's (learned codes) or -3.5/-2.",
    )
    terms: dict[str, float] = Field(default_factory=dict)
    entities: dict[str, float] = Field(
        default_factory=dict,
        description="'kind:<kb kind>', 'role:<office title>' or an entity id, with a weight.",
    )


class IptcCodeTable(Model):
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


class TagRule(Model):
    """Fires when every condition it sets holds (it must set at least one)."""

    id: str | None = Field(
        None,
        description="Rule id reported in the evidence; default '<tag id>#<conditions>'.",
    )
    places: list[CountryCode] = Field(
        default_factory=list,
        description="Any of these countries is a place of the story.",
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


class Tag(Model):
    """A subject tag and the rules that give it (any one is enough)."""

    id: str = Field(pattern=r"^tag:[a-z0-9][a-z0-9-]*$", description="e.g. 'tag:syria'.")
    label: str = Field(min_length=1)
    kind: Literal["country", "region", "organisation", "relationship", "conflict", "issue"]
    rules: list[TagRule] = Field(min_length=1)
    enabled: bool = Field(True, description="False removes a tag of the taxonomy extended.")


class Taxonomy(Model):
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


# Watch rules

RuleId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        description="Letters, digits and . _ : - (up to 128, starting with a letter or digit).",
    ),
]
Ref = Annotated[str, Field(min_length=1, description="An entity id (e.g. 'Q7747') or a name.")]
Polarity = Literal["negative", "neutral", "positive"]


class EntityCondition(Model):
    """The story has an entity named by any of ``any``, at least ``min_salience`` salient."""

    any: list[Ref] = Field(
        min_length=1,
        description="Entity ids or names (a name matches the entity's name or any of its"
        " mentions, case-insensitively).",
    )
    min_salience: Score = 0.0


class TopicCondition(Model):
    """The story carries a topic named by any of ``any``, scoring at least ``min_score``."""

    any: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1,
        description="Topic ids ('medtop:16000000', 'tag:syria') or labels (case-insensitive).",
    )
    min_score: Score = 0.0


class LocationCondition(Model):
    """The story names a place (see the event's ``locations``): one of ``any``, or one within
    ``within_km`` of ``near``; both given, either will do."""

    any: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Location ids ('Q87', 'geonames:4314550') or ISO 3166-1 alpha-2 codes"
        " (any place of that country).",
    )
    near: (
        tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]]
        | None
    ) = Field(None, description="A point as [latitude, longitude].")
    within_km: float = Field(50.0, gt=0, description="How far from ``near`` a place may be.")

    @model_validator(mode="after")
    def _has_a_place(self) -> LocationCondition:
        if not self.any and self.near is None:
            raise ValueError("a locations condition needs any or near")
        return self


class StanceCondition(Model):
    """A holder's stance towards a target: a published stance, or the sentiment of the target's
    mentions inside a quote by the holder. An empty list matches anyone."""

    holder: list[Ref] = Field(default_factory=list, description="Any of these holds the stance.")
    target: list[Ref] = Field(default_factory=list, description="Towards any of these.")
    polarity: Polarity | None = Field(None, description="None matches any polarity.")
    min_score: Score = Field(
        0.0, description="The stance's score, or the strength |sentiment| of a mention."
    )
    quoted: bool = Field(
        False,
        description="Only stances whose evidence lies inside a quote by their holder.",
    )


class QuoteCondition(Model):
    """The story quotes a speaker named by any of ``speaker`` (empty: anyone), optionally only
    direct (or reported) quotes, optionally only quotes mentioning any of ``about``."""

    speaker: list[Ref] = Field(default_factory=list)
    direct: bool | None = None
    about: list[Ref] = Field(default_factory=list)


class WatchRule(Model):
    """A watch rule: the story must satisfy every condition given (AND); within a condition,
    any of its listed values will do (OR)."""

    id: RuleId
    description: str = ""
    entities: list[EntityCondition] = Field(
        default_factory=list, description="Each must hold (AND)."
    )
    topics: list[TopicCondition] = Field(default_factory=list, description="Each must hold.")
    locations: list[LocationCondition] = Field(default_factory=list, description="Each must hold.")
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
    notify: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Where `mediamon notify run` sends the rule's alerts: names of"
        " MEDIAMON_NOTIFY_TARGETS, or target URLs (http(s):// a signed JSON webhook, smtp:// or"
        " smtps:// e-mail, any other scheme an apprise URL such as slack:// or matrix://).",
    )
    notify_digest_minutes: int | None = Field(
        None,
        ge=1,
        description="Digest mode: one message per this many minutes listing the stories,"
        " instead of one message per alert.",
    )
    notify_max_per_hour: int | None = Field(
        None,
        ge=1,
        description="Most messages an hour for this rule; the alerts beyond it"
        " are not sent, only counted (mediamon_notifications_total, outcome rate_limited).",
    )

    @model_validator(mode="after")
    def _has_a_condition(self) -> WatchRule:
        if not (
            self.entities
            or self.topics
            or self.locations
            or self.stances
            or self.quotes
            or self.source
            or self.language
        ):
            raise ValueError("a rule needs at least one condition, or it would match everything")
        return self
