"""Institutions that many countries have ("the Senate", "the Supreme Court", "parliament", "the
central bank", "police", "the Ministry of Health") linked to the country of the story rather
than to a default one: "the Senate" of a Nigerian story is Nigeria's Senate, not the US one
the knowledge base's "Senate" stands for.

The country is the one a demonym before the name gives ("the Nigerian Senate"), else the
strongest country of the story's other evidence (its linked entities, dateline, title and the
countries of its resolved locations), else the country another institution's demonym gives.
An institution whose country's own entry the knowledge base lacks gets the id
``mm:org:<slug>:<country code, lower case>``; the knowledge base's entry keeps its id when the
story is about its country or names no country.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.models import Entity, EntityType, Location
from pipeline.resources.kb import KBEntry, KnowledgeBase
from pipeline.stages.entities.places import MIN_SCORE, country_scores
from pipeline.text.folding import fold

_GENERIC = re.compile(
    r"^(?:senate|house of representatives|supreme court|constitutional court|high court"
    r"|court of appeals?|parliament|national assembly|central bank|reserve bank|police"
    r"|police force|national police|cabinet|electoral commission|(?:ministry|department)"
    r" of (?:the )?[a-z ,&]+|[a-z]+ ministry)$"
)


def generic_name(name: str) -> str | None:
    """The folded name of an institution many countries have ("supreme court"), else None."""
    key = fold(name)
    return key if _GENERIC.match(key) else None


def relink_institutions(
    entities: Sequence[Entity],
    body: str,
    title: str | None,
    locations: Sequence[Location],
    *,
    kb: KnowledgeBase,
) -> list[Entity]:
    """``entities`` with each generic institution linked to its story's country (entities
    that come to share an id are merged)."""
    generic = {e.id: g for e in entities if e.type == EntityType.ORG and (g := _generic(e, kb))}
    if not generic:
        return list(entities)
    others = [e for e in entities if e.id not in generic]
    scores = country_scores(others, body, title, kb=kb, locations=locations)
    story = max(scores, key=lambda c: scores[c]) if scores else None
    if story is not None and scores[story] < MIN_SCORE:
        story = None
    named = [country for _, country in generic.values() if country is not None]
    if story is None and named:  # "the Kenyan Parliament ... Parliament will vote"
        story = max(named, key=named.count)
    relinked: dict[str, Entity] = {}
    for entity in entities:
        if entity.id in generic:
            entity = _relink(entity, generic[entity.id], story, scores, kb)
        known = relinked.get(entity.id)
        if known is None:
            relinked[entity.id] = entity
        else:
            mentions = sorted([*known.mentions, *entity.mentions], key=lambda m: m.start)
            salience = round(min(1.0, known.salience + entity.salience), 4)
            relinked[entity.id] = known.model_copy(
                update={"mentions": mentions, "salience": salience}
            )
    return list(relinked.values())


def _generic(entity: Entity, kb: KnowledgeBase) -> tuple[str, str | None] | None:
    """The generic name of an institution entity and the country a demonym gives it."""
    key = generic_name(entity.name)
    if key is not None:
        return key, None
    words = entity.name.split(" ", 1)
    if len(words) == 2:
        country = kb.demonym(words[0])
        key = generic_name(words[1])
        if key is not None and country is not None and country.country:
            return key, country.country
    return None


def _relink(
    entity: Entity,
    generic: tuple[str, str | None],
    story: str | None,
    scores: dict[str, float],
    kb: KnowledgeBase,
) -> Entity:
    key, named = generic
    entry = kb.get(entity.id)
    default = entry.country if entry is not None else None
    country = named or story
    if country is None or country == default:
        return entity
    if (
        named is None
        and default is not None
        and scores.get(default, 0.0) >= scores.get(country, 0.0)
    ):
        return entity
    own = _entry_of(key, country, kb)
    if own is not None:
        return entity.model_copy(update={"id": own.id, "name": own.name})
    country_entry = kb.country(country)
    label = country_entry.name if country_entry is not None else country
    title = " ".join(w if w in {"of", "the"} else w.capitalize() for w in key.split())
    slug = fold(key, "slug")
    return entity.model_copy(
        update={"id": f"mm:org:{slug}:{country.lower()}", "name": f"{title} ({label})"}
    )


def _entry_of(key: str, country: str, kb: KnowledgeBase) -> KBEntry | None:
    """The knowledge base's own entry of that institution in ``country``, if it has one."""
    for entry in kb:
        if (
            entry.country == country
            and entry.type == EntityType.ORG
            and any(fold(name) == key for name in entry.names)
        ):
            return entry
    return None
