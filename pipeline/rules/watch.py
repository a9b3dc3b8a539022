"""Watch rules against an enriched event: which rules an article matches, and why.

A rule holds when every condition it gives holds (its entities, topics, locations, stances and
quotes, its source and language); a condition lists alternatives, any of which will do. Every
condition that holds yields evidence pointing into the article's body: the entity with its
mentions, the topic, the location with its mentions, the stance with its spans, the quote (and
the mentions inside it), the source or language. An alert carries that evidence. Also parses
rule files (YAML or JSON: one rule or a list; JSON lines too) and keeps the set of active rules
(``WatchRules``: the rule file's, updated by the records of the watch topic). Pure: no Kafka, no
files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from pipeline.keyed import KeyedItems, describe
from pipeline.models import (
    Alert,
    EnrichedEvent,
    Entity,
    EntityCondition,
    EntityRef,
    EntityType,
    Evidence,
    LocationCondition,
    Mention,
    Polarity,
    Quote,
    QuoteCondition,
    Span,
    Stance,
    StanceCondition,
    TopicCondition,
    WatchRule,
    polarity,
)
from pipeline.resources.gazetteer import distance_km

log = logging.getLogger(__name__)

_POLARITY: dict[int, Polarity] = {-1: "negative", 0: "neutral", 1: "positive"}


def _key(text: str) -> str:
    """``text`` as compared with a rule's value: case-folded, whitespace collapsed."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True, slots=True)
class _Refs:
    """A rule's list of entity ids or names, resolved against one event. An empty list names
    anyone."""

    keys: frozenset[str]
    ids: frozenset[str]
    """The ids of the event's entities that the list names (by id, name or mention text)."""

    def names(self, entity_id: str | None, name: str | None) -> bool:
        """Whether the list names the person or thing with this id or name."""
        if not self.keys:
            return True
        if entity_id is not None and (entity_id in self.ids or _key(entity_id) in self.keys):
            return True
        return name is not None and _key(name) in self.keys


class _Index:
    """One event's entities by every id, name and mention text, case-folded."""

    def __init__(self, event: EnrichedEvent) -> None:
        self.event = event
        self._ids: dict[str, set[str]] = {}
        for entity in event.entities:
            for text in (entity.id, entity.name, *(m.text for m in entity.mentions)):
                self._ids.setdefault(_key(text), set()).add(entity.id)

    def resolve(self, refs: Iterable[str]) -> _Refs:
        keys = frozenset(_key(ref) for ref in refs)
        return _Refs(keys, frozenset(i for k in keys for i in self._ids.get(k, ())))


def _within(span: Span, quote: Quote) -> bool:
    return quote.start <= span.start and span.end <= quote.end


def _entity_ref(entity: Entity) -> EntityRef:
    return EntityRef(id=entity.id, name=entity.name, type=entity.type, salience=entity.salience)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _speaker(quote: Quote) -> str:
    return quote.speaker or "an unnamed speaker"


def _entities(condition: EntityCondition, index: _Index, i: int) -> list[Evidence]:
    refs = index.resolve(condition.any)
    return [
        Evidence(
            condition="entities",
            index=i,
            summary=f"{entity.name} ({entity.id}), salience {entity.salience:.2f}",
            entity=_entity_ref(entity),
            mentions=entity.mentions,
        )
        for entity in index.event.entities
        if entity.id in refs.ids and entity.salience >= condition.min_salience
    ]


def _topics(condition: TopicCondition, index: _Index, i: int) -> list[Evidence]:
    keys = {_key(value) for value in condition.any}
    return [
        Evidence(
            condition="topics",
            index=i,
            summary=f"{topic.label} ({topic.id}), score {topic.score:.2f}",
            topic=topic,
        )
        for topic in index.event.topics
        if (_key(topic.id) in keys or _key(topic.label) in keys)
        and topic.score >= condition.min_score
    ]


def _quotes(condition: QuoteCondition, index: _Index, i: int) -> list[Evidence]:
    event = index.event
    speakers = index.resolve(condition.speaker)
    about = index.resolve(condition.about)
    found = []
    for quote in event.quotes:
        if condition.direct is not None and quote.direct != condition.direct:
            continue
        if not speakers.names(quote.speaker_id, quote.speaker):
            continue
        said = f"{_speaker(quote)}: “{_clip(quote.text)}”"
        if not condition.about:
            found.append(Evidence(condition="quotes", index=i, summary=said, quote=quote))
            continue
        for entity in event.entities:
            inside = [m for m in entity.mentions if _within(m, quote)]
            if entity.id in about.ids and inside:
                found.append(
                    Evidence(
                        condition="quotes",
                        index=i,
                        summary=f"{said} (mentions {entity.name})",
                        quote=quote,
                        entity=_entity_ref(entity),
                        mentions=inside,
                    )
                )
    return found


def _same_holder(quote: Quote, stance: Stance) -> bool:
    if quote.speaker_id is not None and quote.speaker_id == stance.holder_id:
        return True
    return quote.speaker is not None and _key(quote.speaker) == _key(stance.holder)


def _sentiment_fits(sentiment: float | None, condition: StanceCondition) -> bool:
    """Whether a mention's sentiment has the condition's polarity and strength."""
    if sentiment is None or abs(sentiment) < condition.min_score:
        return False
    reading: Polarity = _POLARITY[polarity(sentiment)]
    return condition.polarity in (None, reading)


def _stances(condition: StanceCondition, index: _Index, i: int) -> list[Evidence]:
    """Published stances of a holder towards a target, then the sentiment of the target's
    mentions inside the holder's quotes."""
    event = index.event
    holders = index.resolve(condition.holder)
    targets = index.resolve(condition.target)
    found = []
    for stance in event.stances:
        polarity = _POLARITY[stance.polarity]
        if not (
            holders.names(stance.holder_id, stance.holder)
            and targets.names(stance.target_id, stance.target)
            and condition.polarity in (None, polarity)
            and stance.score >= condition.min_score
        ):
            continue
        quote = None
        if condition.quoted:
            quote = next(
                (
                    q
                    for q in event.quotes
                    if _same_holder(q, stance) and any(_within(s, q) for s in stance.evidence)
                ),
                None,
            )
            if quote is None:
                continue
        summary = f"{stance.holder} → {stance.target}: {polarity}, score {stance.score:.2f}"
        found.append(
            Evidence(condition="stances", index=i, summary=summary, stance=stance, quote=quote)
        )
    for quote in event.quotes:
        if not holders.names(quote.speaker_id, quote.speaker):
            continue
        for entity in event.entities:
            if entity.id == quote.speaker_id or (condition.target and entity.id not in targets.ids):
                continue
            fired = [
                m
                for m in entity.mentions
                if _within(m, quote) and _sentiment_fits(m.sentiment, condition)
            ]
            if fired:
                sentiments = ", ".join(f"{m.sentiment:+.2f}" for m in fired)
                found.append(
                    Evidence(
                        condition="stances",
                        index=i,
                        summary=f"{_speaker(quote)} on {entity.name} in a quote:"
                        f" sentiment {sentiments}",
                        quote=quote,
                        entity=_entity_ref(entity),
                        mentions=fired,
                    )
                )
    return found


def _locations(condition: LocationCondition, event: EnrichedEvent, i: int) -> list[Evidence]:
    wanted = {value.casefold() for value in condition.any}
    found = []
    for location in event.locations:
        hit = location.id.casefold() in wanted or location.country.casefold() in wanted
        summary = f"{location.name} ({location.id}, {location.country})"
        if not hit and condition.near is not None:
            km = distance_km(*condition.near, location.lat, location.lon)
            hit = km <= condition.within_km
            summary += f", {km:.0f} km from the point"
        if hit:
            mentions = [
                Mention(
                    start=m.start, end=m.end, text=event.body[m.start : m.end], type=EntityType.LOC
                )
                for m in location.mentions
            ]
            found.append(
                Evidence(condition="locations", index=i, summary=summary, mentions=mentions)
            )
    return found


def _source(rule: WatchRule, event: EnrichedEvent) -> list[Evidence]:
    domain = _key(event.source.domain or "")
    name = _key(event.source.name or "")
    for value in rule.source:
        wanted = _key(value)
        if (domain and (domain == wanted or domain.endswith("." + wanted))) or name == wanted:
            shown = event.source.domain or event.source.name
            return [Evidence(condition="source", summary=f"source {shown}")]
    return []


def _language(rule: WatchRule, event: EnrichedEvent) -> list[Evidence]:
    language = event.language
    if language is not None and _key(language) in {_key(v) for v in rule.language}:
        return [Evidence(condition="language", summary=f"language {language}")]
    return []


def _conditions(rule: WatchRule, index: _Index) -> Iterator[list[Evidence]]:
    """The evidence of each condition the rule gives, cheapest first (an empty list: the
    condition does not hold)."""
    event = index.event
    if rule.language:
        yield _language(rule, event)
    if rule.source:
        yield _source(rule, event)
    for i, entities in enumerate(rule.entities):
        yield _entities(entities, index, i)
    for i, topics in enumerate(rule.topics):
        yield _topics(topics, index, i)
    for i, locations in enumerate(rule.locations):
        yield _locations(locations, event, i)
    for i, quotes in enumerate(rule.quotes):
        yield _quotes(quotes, index, i)
    for i, stances in enumerate(rule.stances):
        yield _stances(stances, index, i)


def _match(rule: WatchRule, index: _Index) -> list[Evidence] | None:
    if index.event.duplicate_of is not None and not rule.duplicates:
        return None
    evidence: list[Evidence] = []
    for found in _conditions(rule, index):
        if not found:
            return None
        evidence += found
    return evidence


def match(rule: WatchRule, event: EnrichedEvent) -> list[Evidence] | None:
    """The evidence for every condition of ``rule`` when ``event`` satisfies them all, else
    None. A copy of an article already seen (``duplicate_of``) matches only rules that ask
    for duplicates."""
    return _match(rule, _Index(event))


def alerts(rules: Iterable[WatchRule], event: EnrichedEvent, now: datetime) -> list[Alert]:
    """An alert for every rule that ``event`` matches, in the rules' order."""
    index = _Index(event)
    found = []
    for rule in rules:
        evidence = _match(rule, index)
        if evidence is not None:
            found.append(
                Alert(
                    rule_id=rule.id,
                    rule_description=rule.description,
                    article_id=event.id,
                    url=event.url,
                    title=event.title,
                    source=event.source,
                    language=event.language,
                    published_at=event.published_at,
                    duplicate_of=event.duplicate_of,
                    evidence=evidence,
                    matched_at=now,
                )
            )
    return found


def parse_rules(text: str | bytes, origin: str) -> tuple[list[WatchRule], list[str]]:
    """The rules of a rule file (YAML or JSON: one rule or a list of them, or JSON lines) and
    a message for every rule that is not valid (those are left out), each naming ``origin``."""
    try:
        document = _load(text)
    except ValueError as exc:
        return [], [f"{origin}: not YAML, JSON or JSON lines: {exc}"]
    if document is None:
        return [], []
    items = document if isinstance(document, list) else [document]
    rules: list[WatchRule] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        where = f"{origin}: rule {number}"
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            where += f" ({item['id']})"
        try:
            rule = WatchRule.model_validate(item)
        except ValidationError as exc:
            errors.append(f"{where}: {describe(exc)}")
            continue
        if rule.id in seen:
            errors.append(f"{where}: the id {rule.id!r} is used by an earlier rule")
            continue
        seen.add(rule.id)
        rules.append(rule)
    return rules, errors


def _load(text: str | bytes) -> Any:
    """A YAML (hence also JSON) document, or the records of JSON lines as a list."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        lines: Sequence[str | bytes] = text.splitlines()
        try:
            return [orjson.loads(line) for line in lines if line.strip()]
        except orjson.JSONDecodeError:
            raise ValueError(str(exc).replace("\n", " ")) from None


class WatchRules(KeyedItems[WatchRule]):
    """The rules a worker applies: those of the rule file, and those of the watch topic, which
    replace a file rule of the same id. ``on_change`` receives the number of active rules."""

    def __init__(
        self,
        file_rules: Iterable[WatchRule] = (),
        on_change: Callable[[int], None] = lambda count: None,
    ) -> None:
        super().__init__(WatchRule, lambda rule: rule.id, "watch rule", "id", file_rules, on_change)
