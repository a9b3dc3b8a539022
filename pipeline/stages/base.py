"""The stage interface: an article stage has a name, declares the fields of an
:class:`ArticleRecord` it reads and writes, runs over a batch of records, serves some languages,
and has a failure policy (dead-letter the article, or let it go on without this stage's
fields). The enricher runs a list of stages; metrics, the analysis cache and the event take the
stage names and fields from that list (see docs/architecture.md, "Adding a stage")."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from pipeline.models import Article, Entity, Location, Quote, RawRecord, Stance, Topic
from pipeline.stages.normalise.dedup import Duplicate


class OnError(StrEnum):
    """What becomes of an article a stage fails on (the rest of the batch goes on either way)."""

    DEAD_LETTER = "dead_letter"
    """The article cannot be published without this stage: it is dead-lettered."""
    DEGRADE = "degrade"
    """The article goes on without this stage's fields (the failure is logged)."""


@dataclass(slots=True)
class ArticleRecord:
    """One article of a batch and everything the stages found in it so far. The fields the
    article stages write are None until a stage has written them."""

    index: int
    """Position of the raw record in its batch."""
    record: RawRecord
    article: Article
    id: str
    url: str | None
    content_hash: str
    language: str | None
    skip_reason: str | None
    """Why no article stage runs (no language, or one no stage serves); None when they run."""
    duplicate: Duplicate | None = None
    failed: str | None = None
    """The stage whose failure dead-letters this article (policy ``DEAD_LETTER``)."""
    entities: list[Entity] | None = None
    quotes: list[Quote] | None = None
    stances: list[Stance] | None = None
    stance_model: str | None = None
    places: list[str] | None = None
    locations: list[Location] | None = None
    topics: list[Topic] | None = None
    enriched_with: dict[str, str] = field(default_factory=dict)
    """Each stage that ran on the article, and the language of its model (see
    :meth:`Stage.variant`)."""

    @property
    def live(self) -> bool:
        """Whether the article stages still run on this article."""
        return self.skip_reason is None and self.failed is None

    def event_fields(self) -> dict[str, object]:
        """The enriched event's fields that the stages write: what they found, else empty
        (an article no stage ran on has no entities, quotes, ...)."""
        return {
            "entities": self.entities or [],
            "quotes": self.quotes or [],
            "stances": self.stances or [],
            "stance_model": self.stance_model,
            "places": self.places or [],
            "locations": self.locations or [],
            "topics": self.topics or [],
            "enriched_with": dict(self.enriched_with),
        }

    @property
    def year(self) -> int | None:
        """The year of publication, which linking and the analysis cache read."""
        published = self.article.published_at
        return published.year if published is not None else None


@dataclass(frozen=True, slots=True)
class BatchContext:
    """What a stage may know about the batch as a whole."""

    behind: bool = False
    """The stream's worker is behind its input (the stance stage takes its backlog model)."""


class Stage(ABC):
    """An article stage. Subclasses set the class attributes and implement :meth:`run`."""

    name: ClassVar[str]
    """The stage's name: metrics label, log lines, docs."""
    reads: ClassVar[tuple[str, ...]] = ()
    """:class:`ArticleRecord` fields it needs (written by an earlier stage)."""
    writes: ClassVar[tuple[str, ...]]
    """:class:`ArticleRecord` fields it sets."""
    on_error: ClassVar[OnError] = OnError.DEGRADE

    def __init__(self, languages: frozenset[str] | None = None) -> None:
        self.languages = languages
        """The languages it serves (ISO 639-1); None for every language."""

    def serves(self, language: str | None) -> bool:
        """Whether the stage runs on an article in ``language``."""
        return self.languages is None or (language is not None and language in self.languages)

    def variant(self, language: str | None) -> str:
        """Which model of the stage serves ``language``: ``"any"`` (the default) for a stage
        that reads every language alike, else a language code or ``"multilingual"``."""
        return "any"

    def load(self) -> None:  # noqa: B027  # most stages have nothing to load
        """Load models and files now (at start-up, and before each batch: cached). An error
        here is an error of the whole batch, not of an article."""

    @abstractmethod
    def run(self, records: Sequence[ArticleRecord], batch: BatchContext) -> None:
        """Set :attr:`writes` on ``records`` (all of them live, all in a served language).
        An exception fails the batch call; the enricher then runs the stage article by
        article and applies :attr:`on_error` to the articles it still fails on."""


def check_order(stages: Sequence[Stage]) -> None:
    """Raise ValueError unless every stage's inputs are written by an earlier stage and no
    two stages share a name."""
    written: set[str] = set()
    names: set[str] = set()
    for stage in stages:
        missing = [f for f in stage.reads if f not in written]
        if missing:
            raise ValueError(f"stage {stage.name!r} reads {missing} before any stage writes them")
        if stage.name in names:
            raise ValueError(f"two stages are named {stage.name!r}")
        names.add(stage.name)
        written.update(stage.writes)
