"""The entities stage: spaCy named-entity recognition over article bodies, mapped to CoNLL types
(PER, ORG, LOC, MISC), mentions grouped into one entity per name, with a salience score."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import spacy

from pipeline.models import Entity, EntityType, Mention

# OntoNotes labels of spaCy's English models, mapped to CoNLL-2003 types. Numeric and temporal
# labels (DATE, MONEY, CARDINAL, ...) are not entities in the CoNLL sense and are dropped.
ONTONOTES_TO_CONLL: dict[str, EntityType] = {
    "PERSON": EntityType.PER,
    "ORG": EntityType.ORG,
    "GPE": EntityType.LOC,
    "LOC": EntityType.LOC,
    "FAC": EntityType.LOC,
    "NORP": EntityType.MISC,
    "EVENT": EntityType.MISC,
    "WORK_OF_ART": EntityType.MISC,
    "LAW": EntityType.MISC,
    "LANGUAGE": EntityType.MISC,
    "PRODUCT": EntityType.MISC,
}

# Components of spaCy's English pipelines that named-entity recognition does not need: the NER
# component carries its own token-to-vector layer, so its output is identical without them.
_UNUSED_COMPONENTS = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]

_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['\u2019]s?$")
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class RawMention:
    """A mention as the recogniser found it, before grouping."""

    start: int
    end: int
    text: str
    type: EntityType


def load_recogniser(model: str) -> Any:
    """Load an installed spaCy pipeline package with only the components NER needs."""
    return spacy.load(model, exclude=_UNUSED_COMPONENTS)


def recognise(nlp: Any, bodies: Sequence[str], batch_size: int) -> list[list[RawMention]]:
    """Run NER over ``bodies`` in one batched ``nlp.pipe`` call; one mention list per body."""
    results: list[list[RawMention]] = []
    for doc in nlp.pipe(bodies, batch_size=batch_size):
        mentions = []
        for ent in doc.ents:
            etype = ONTONOTES_TO_CONLL.get(ent.label_)
            if etype is not None:
                mentions.append(RawMention(ent.start_char, ent.end_char, ent.text, etype))
        results.append(mentions)
    return results


def name_key(text: str) -> str:
    """The grouping key of a mention: case-folded, accents and 'the'/possessive removed."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = _POSSESSIVE.sub("", _LEADING_ARTICLE.sub("", folded.strip()))
    return _NON_WORD.sub("-", folded.casefold()).strip("-")


def group_entities(mentions: Iterable[RawMention], body: str) -> list[Entity]:
    """Group mentions with the same name and type into entities, most salient first.

    Salience is the entity's share of all mentions in the article, where a mention in the lead
    (the first 20% of the body) counts double; the scores of an article sum to 1.
    """
    lead_end = max(1, len(body) // 5)
    groups: dict[tuple[str, EntityType], list[RawMention]] = {}
    for mention in mentions:
        key = name_key(mention.text)
        if key:
            groups.setdefault((key, mention.type), []).append(mention)
    weights = {
        group: sum(2.0 if m.start < lead_end else 1.0 for m in members)
        for group, members in groups.items()
    }
    total = sum(weights.values()) or 1.0
    entities = [
        Entity(
            id=f"local:{etype.value.lower()}:{key}",
            name=_display_name(members),
            type=etype,
            salience=round(weights[(key, etype)] / total, 4),
            mentions=[Mention(start=m.start, end=m.end, text=m.text, type=m.type) for m in members],
        )
        for (key, etype), members in groups.items()
    ]
    entities.sort(key=lambda e: (-e.salience, e.mentions[0].start))
    return entities


def _display_name(members: Sequence[RawMention]) -> str:
    """The longest surface form, without a leading article or possessive."""
    best = max((m.text for m in members), key=len)
    return _POSSESSIVE.sub("", _LEADING_ARTICLE.sub("", best.strip()))
