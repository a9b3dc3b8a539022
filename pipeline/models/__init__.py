"""The data Mediamon passes around; ``schemas/`` is generated from these pydantic models.

- :mod:`pipeline.models.records`: the input side: :class:`RawRecord` (one message as it came
  in), :class:`Reason` and :class:`Rejected` (why an input cannot become an article).
- :mod:`pipeline.models.events`: the wire events: :class:`Article` and its parts (entities,
  mentions, quotes, stances, topics), :class:`EnrichedEvent`, :class:`DeadLetter`,
  :class:`Trend`, :class:`Alert`, and :func:`encode`, the bytes published for them.
- :mod:`pipeline.models.rules`: rule-file schemas: the IPTC code table (:class:`IptcCodeTable`),
  the taxonomy of subject tags (:class:`Taxonomy`) and watch rules (:class:`WatchRule`).
- :mod:`pipeline.models.feeds`: the feed reader's records: :class:`Feed`, :class:`FeedItem`
  (the ingest record it produces) and :class:`SeenUrl`; :mod:`pipeline.models.notify`:
  :class:`NotifyDeadLetter`, an alert the notifier could not deliver.
- :mod:`pipeline.models.base`: what they share: the strict pydantic base, the schema
  version, bounded score types and :func:`polarity`, the reading of a sentiment.

Every public name is importable from ``pipeline.models`` itself.
"""

from pipeline.models.base import (
    SCHEMA_VERSION,
    THRESHOLD,
    Offset,
    Score,
    Sentiment,
    polarity,
)
from pipeline.models.events import (
    Alert,
    Article,
    DeadLetter,
    EnrichedEvent,
    Entity,
    EntityRef,
    EntityType,
    Evidence,
    Location,
    Mention,
    Outcome,
    Quote,
    Source,
    Span,
    Stance,
    Topic,
    TopicEvidence,
    Trend,
    TrendKind,
    encode,
)
from pipeline.models.feeds import Feed, FeedItem, SeenUrl
from pipeline.models.notify import NotifyDeadLetter
from pipeline.models.records import (
    RawRecord,
    Reason,
    Rejected,
)
from pipeline.models.rules import (
    ActorSide,
    CountryCode,
    EntityCondition,
    IptcCode,
    IptcCodeId,
    IptcCodeTable,
    LocationCondition,
    Polarity,
    QuoteCondition,
    Ref,
    RuleId,
    StanceCondition,
    Tag,
    TagRule,
    Taxonomy,
    TopicCondition,
    WatchRule,
)

__all__ = [
    "SCHEMA_VERSION",
    "THRESHOLD",
    "ActorSide",
    "Alert",
    "Article",
    "CountryCode",
    "DeadLetter",
    "EnrichedEvent",
    "Entity",
    "EntityCondition",
    "EntityRef",
    "EntityType",
    "Evidence",
    "Feed",
    "FeedItem",
    "IptcCode",
    "IptcCodeId",
    "IptcCodeTable",
    "Location",
    "LocationCondition",
    "Mention",
    "NotifyDeadLetter",
    "Offset",
    "Outcome",
    "Polarity",
    "Quote",
    "QuoteCondition",
    "RawRecord",
    "Reason",
    "Ref",
    "Rejected",
    "RuleId",
    "Score",
    "SeenUrl",
    "Sentiment",
    "Source",
    "Span",
    "Stance",
    "StanceCondition",
    "Tag",
    "TagRule",
    "Taxonomy",
    "Topic",
    "TopicCondition",
    "TopicEvidence",
    "Trend",
    "TrendKind",
    "WatchRule",
    "encode",
    "polarity",
]
