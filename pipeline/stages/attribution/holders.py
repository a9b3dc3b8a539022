"""Who holds a stance: pronouns resolved to people, evaluation verbs, quotes' speakers."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.models import (
    Entity,
    EntityType,
    Mention,
    Quote,
    Span,
    Stance,
    polarity,
)
from pipeline.stages.attribution.marks import quoted_spans
from pipeline.stages.attribution.pronouns import PronounResolver
from pipeline.text.sentences import Sentences

AUTHOR = "author"
"""The holder of the stances in the article's own voice."""

_PRONOUN = re.compile(r"\b(?:he|him|his|himself|she|her|hers|herself)\b", re.IGNORECASE)


def pronoun_mentions(
    body: str, entities: Sequence[Entity], spans: Sentences
) -> dict[str, list[Mention]]:
    """Personal pronouns resolved to a person of their gender named in the same or the
    previous :data:`~pipeline.stages.attribution.pronouns.SENTENCE_REACH` sentences (see
    :class:`~pipeline.stages.attribution.pronouns.PronounResolver`), keyed by entity id; a
    pronoun that already is a mention (a speaker's "he" the quotes stage resolved) is left
    as it is."""
    mentions = sorted(
        ((m.start, m.end, e) for e in entities for m in e.mentions), key=lambda m: m[:2]
    )
    if not any(e.type is EntityType.PER for e in entities):
        return {}
    resolver = PronounResolver(body, mentions, quoted_spans(body), spans)
    taken = {(m[0], m[1]) for m in mentions}
    found: dict[str, list[Mention]] = defaultdict(list)
    for match in _PRONOUN.finditer(body):
        if match.span() in taken:
            continue
        entity = resolver.resolve(match.start(), match.group().lower(), anywhere=False)
        if entity is not None:
            found[entity.id].append(
                Mention(
                    start=match.start(), end=match.end(), text=match.group(), type=EntityType.PER
                )
            )
    return found


@dataclass(slots=True)
class PreparedArticle:
    body: str
    entities: list[Entity]
    quotes: Sequence[Quote]
    sentences: Sentences
    # per sentence index: the (entity index, mention index) pairs in it
    targets: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


_EVALUATES = re.compile(
    r"\s+(?:(?:has|have|had|also|then|again|repeatedly|publicly|sharply)\s+)*"
    r"(?:call|criticis|criticiz|slamm?|accus|blam|condemn|prais|hail|attack|denounc|welcom|"
    r"thank|laud|reject|dismiss|describ|label|brand|urg|warn|scold|rebuk|mock|defend)"
    r"\w*\b"
)
"""A verb after a person or organisation that makes them the holder of what follows."""


def _evaluators(
    body: str, entities: Sequence[Entity], sentences: Sentences, quotes: Sequence[Quote]
) -> dict[int, list[tuple[int, int, Entity]]]:
    """Per sentence: (where the verb ends, how far it reaches, entity) for "X called ...",
    "X accused ...", "X praised ...": X holds the stance towards what follows, to the end of
    the sentence, or of the quote that X's words are part of."""
    found: dict[int, list[tuple[int, int, Entity]]] = defaultdict(list)
    for entity in entities:
        if entity.type not in (EntityType.PER, EntityType.ORG):
            continue
        for mention in entity.mentions:
            verb = _EVALUATES.match(body, mention.end)
            if verb is None:
                continue
            s_index = sentences.index(mention.start)
            reach = next(
                (q.end for q in quotes if q.start <= mention.start < q.end),
                sentences.spans[s_index][1],
            )
            found[s_index].append((verb.end(), reach, entity))
    for verbs in found.values():
        verbs.sort(key=lambda v: v[0])
    return found


def find_stances(article: PreparedArticle, entities: Sequence[Entity]) -> list[Stance]:
    quotes = sorted(article.quotes, key=lambda q: q.start)
    quote_starts = [q.start for q in quotes]
    evaluators = _evaluators(article.body, entities, article.sentences, quotes)
    polar: dict[tuple[str, str | None, int], list[tuple[float, int, int]]] = defaultdict(list)
    for e_index, entity in enumerate(entities):
        for mention in entity.mentions:
            score = mention.sentiment or 0.0
            if polarity(score) == 0:
                continue
            holder: tuple[str, str | None] | None = (AUTHOR, None)
            s_index = article.sentences.index(mention.start)
            s_start, s_end = article.sentences.spans[s_index]
            k = bisect_right(quote_starts, mention.start) - 1
            if k >= 0 and mention.end <= quotes[k].end:
                quote = quotes[k]
                holder = (quote.speaker, quote.speaker_id) if quote.speaker else None
                # the evidence is the holder's words: the quote's part of the sentence
                s_start, s_end = max(s_start, quote.start), min(s_end, quote.end)
            before = [
                e for end, reach, e in evaluators.get(s_index, ()) if end <= mention.start < reach
            ]
            if before:  # "X called the position of U.S. officials weak": X holds it
                holder = (before[-1].name, before[-1].id)
            if holder is None or holder[1] == entity.id:
                continue  # an unattributed quote, or a speaker about themselves
            polar[(holder[0], holder[1], e_index)].append((score, s_start, s_end))
    out = []
    for (holder_name, holder_id, e_index), found in polar.items():
        mean = sum(score for score, _, _ in found) / len(found)
        sign = polarity(mean)
        if sign == 0:
            continue
        evidence = sorted({(a, b) for score, a, b in found if polarity(score) == sign})
        target = entities[e_index]
        out.append(
            Stance(
                holder=holder_name,
                holder_id=holder_id,
                target=target.name,
                target_id=target.id,
                polarity=sign,
                score=round(min(1.0, abs(mean)), 3),
                evidence=[Span(start=a, end=b) for a, b in evidence],
            )
        )
    out.sort(key=lambda s: (s.evidence[0].start, s.holder, s.target))
    return out
