"""Subject tags from a taxonomy: "Syria", "US-Russia relations", "Syrian civil war", "NATO".

The taxonomy is a YAML file validated by :class:`pipeline.models.Taxonomy`: the one shipped in
``pipeline/data/taxonomy.yaml`` (built by ``scripts/build_taxonomy.py``: every country and
notable region of the knowledge base, its organisations, world regions, and the major bilateral
relationships and conflicts of the last decade), which a user's file (``MEDIAMON_TAXONOMY_PATH``)
extends or replaces (``MEDIAMON_TAXONOMY_MODE``).

A tag fires when any of its rules does; a rule fires when every condition it sets holds:

- ``places``: a country is one of the story's places (``score``: its evidence against the
  strongest country's);
- ``entities``: a linked entity is in the story, salient enough and named often enough
  (``score``: its salience against the most salient entity's);
- ``actors``: two sides (countries, standing for their government, capital, legislature and
  office-holders, or entity ids) are each salient and named together in at least
  ``min_sentences`` sentences, the title counting as one: "US-Russia relations" needs the
  two to act in the same story, not merely to be named in it (``score``: from the number of
  such sentences and the weaker side's salience);
- ``keywords``: a word or phrase is in the title or body;
- ``iptc``: the story has one of these IPTC codes (``score``: the code's).

A rule's score is its weakest condition's, a tag's its best rule's; every rule that fired
adds its evidence (rule id, entities, terms, sentences).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from pipeline import DATA_DIR
from pipeline.models import Entity, Span, Tag, TagRule, Taxonomy, Topic, TopicEvidence
from pipeline.resources.kb import KnowledgeBase, default_kb
from pipeline.stages.entities.places import KIND_WEIGHT, country_scores
from pipeline.stages.topics.iptc import load_topics_file
from pipeline.text.folding import fold
from pipeline.text.sentences import Sentences

log = logging.getLogger(__name__)

TAXONOMY_PATH = DATA_DIR / "taxonomy.yaml"
SCHEME = "mediamon"
ACTOR_KINDS = frozenset(
    {"country", "former-country", "capital", "government", "legislature", "person"}
)
"""Knowledge-base kinds that act for their country in an ``actors`` condition."""
FULL_ACTOR_SALIENCE = 0.2
"""A side this salient (in total) counts fully towards an ``actors`` score."""
EVIDENCE_SENTENCES = 3
TaxonomyMode = Literal["extend", "replace"]

_DASH = "[-\u2010-\u2015]"
_TITLE_WORD = re.compile(r"\S+")
_EDGE_PUNCTUATION = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb()[]{}:;,!?"


def read_taxonomy(path: Path) -> Taxonomy:
    """A taxonomy file, validated (pydantic); errors name the file."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Taxonomy.model_validate(data)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"taxonomy {path}: {exc}") from exc


def load_taxonomy(path: Path | None = None, mode: TaxonomyMode = "extend") -> Taxonomy:
    """The shipped taxonomy, extended by the file at ``path`` (its tags added, or replacing
    shipped tags of the same id; ``enabled: false`` removes one) or replaced by it."""
    if path is None:
        return read_taxonomy(TAXONOMY_PATH)
    own = read_taxonomy(path)
    if mode == "replace":
        tags = own.tags
    else:
        merged = {tag.id: tag for tag in read_taxonomy(TAXONOMY_PATH).tags}
        merged.update((tag.id, tag) for tag in own.tags)
        tags = list(merged.values())
    return Taxonomy(tags=[tag for tag in tags if tag.enabled])


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    spec: TagRule
    sides: tuple[frozenset[str], frozenset[str]] | None
    keywords: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class _Tag:
    spec: Tag
    rules: tuple[_Rule, ...]


@dataclass(slots=True)
class _Article:
    """What the rules look at, computed once per article."""

    kb: KnowledgeBase
    title: str
    body: str
    entities: dict[str, Entity]
    top_salience: float
    sentences: Sentences
    in_sentences: dict[str, list[int]]
    in_title: set[str]
    places: list[str]
    place_scores: dict[str, float]
    iptc: dict[str, float]


@dataclass(slots=True)
class _Fired:
    score: float
    entities: list[str]
    terms: list[str]
    sentences: list[int]


class Tagger:
    """Applies a taxonomy to articles; immutable once built, so safe across threads."""

    def __init__(self, taxonomy: Taxonomy, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or default_kb()
        _check_references(taxonomy, self.kb)
        self.tags = tuple(_compile(tag, self.kb) for tag in taxonomy.tags if tag.enabled)
        self._kb_names = lru_cache(maxsize=4096)(self._folded_names)
        # A rule is only tried on an article that has one of its gate keys (a place, an entity,
        # an IPTC code it needs); rules with keywords alone are tried on every article.
        self._gated: dict[str, list[tuple[int, int]]] = {}
        self._ungated: list[tuple[int, int]] = []
        for t, tag in enumerate(self.tags):
            for r, rule in enumerate(tag.rules):
                keys = _gate(rule)
                if keys is None:
                    self._ungated.append((t, r))
                for key in keys or ():
                    self._gated.setdefault(key, []).append((t, r))

    def tag(
        self,
        title: str | None,
        body: str,
        entities: Sequence[Entity],
        places: Sequence[str],
        iptc: Sequence[Topic] = (),
    ) -> list[Topic]:
        """The tags of an article with its linked entities, places and IPTC topics, best
        first."""
        article = self._article(title or "", body, entities, places, iptc)
        keys = [*(f"place:{p}" for p in places), *(f"entity:{e.id}" for e in entities)]
        keys += [f"iptc:{topic.id}" for topic in iptc]
        candidates = set(self._ungated)
        for key in keys:
            candidates.update(self._gated.get(key, ()))
        topics = []
        for t in sorted({t for t, _ in candidates}):
            tag = self.tags[t]
            fired = [
                (rule, found)
                for r, rule in enumerate(tag.rules)
                if (t, r) in candidates and (found := _apply(rule, article))
            ]
            if not fired:
                continue
            score = max(found.score for _, found in fired)
            topics.append(
                Topic(
                    id=tag.spec.id,
                    label=tag.spec.label,
                    scheme=SCHEME,
                    score=round(score, 4),
                    evidence=[_evidence(rule.id, found, article) for rule, found in fired],
                )
            )
        return sorted(topics, key=lambda topic: -topic.score)

    def _folded_names(self, entity_id: str) -> frozenset[str]:
        """Every folded name of a knowledge-base entry (none for an article-local id)."""
        return frozenset(fold(name) for name in self.kb.names_of(entity_id))

    def _article(
        self,
        title: str,
        body: str,
        entities: Sequence[Entity],
        places: Sequence[str],
        iptc: Sequence[Topic],
    ) -> _Article:
        sentences = Sentences.of(body)
        grams = _title_grams(title)
        in_title = {
            e.id
            for e in entities
            if grams & self._kb_names(e.id) or grams & {fold(m.text) for m in e.mentions}
        }
        return _Article(
            kb=self.kb,
            title=title,
            body=body,
            entities={e.id: e for e in entities},
            top_salience=max((e.salience for e in entities), default=0.0),
            sentences=sentences,
            in_sentences={
                e.id: sorted({sentences.index(m.start) for m in e.mentions}) for e in entities
            },
            in_title=in_title,
            places=list(places),
            place_scores=country_scores(entities, body, title, kb=self.kb) if places else {},
            iptc={topic.id: topic.score for topic in iptc},
        )


def _compile(tag: Tag, kb: KnowledgeBase) -> _Tag:
    rules = []
    used: set[str] = set()
    for rule in tag.rules:
        base = rule.id or f"{tag.id}#{'+'.join(rule.conditions())}"
        rule_id, n = base, 2
        while rule_id in used:
            rule_id, n = f"{base}-{n}", n + 1
        used.add(rule_id)
        sides = None
        if rule.actors is not None:
            a, b = rule.actors
            sides = (_actor_ids(a, kb), _actor_ids(b, kb))
        keywords = None
        if rule.keywords:
            alternatives = "|".join(
                _keyword_pattern(keyword)
                for keyword in sorted(rule.keywords, key=len, reverse=True)
            )
            keywords = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        rules.append(_Rule(rule_id, rule, sides, keywords))
    return _Tag(tag, tuple(rules))


def _gate(rule: _Rule) -> list[str] | None:
    """Keys of which an article needs one for ``rule`` to fire; None when it has none."""
    spec = rule.spec
    if spec.places:
        return [f"place:{code}" for code in spec.places]
    if spec.entities:
        return [f"entity:{ref}" for ref in spec.entities]
    if rule.sides is not None:
        return [f"entity:{ref}" for ref in min(rule.sides, key=len)]
    if spec.iptc:
        return [f"iptc:{code}" for code in spec.iptc]
    return None


def _keyword_pattern(keyword: str) -> str:
    """A keyword as a pattern: any white space between words, any dash for a hyphen."""
    words = (re.escape(word).replace(r"\-", _DASH) for word in keyword.split())
    return r"\s+".join(words)


def _actor_ids(side: Iterable[str], kb: KnowledgeBase) -> frozenset[str]:
    ids: set[str] = set()
    for ref in side:
        if _is_country_code(ref):
            ids.update(e.id for e in kb if e.country == ref and e.kind in ACTOR_KINDS)
        else:
            ids.add(ref)
    return frozenset(ids)


def _is_country_code(ref: str) -> bool:
    return len(ref) == 2 and ref.isupper() and ref.isalpha()


def _check_references(taxonomy: Taxonomy, kb: KnowledgeBase) -> None:
    """Every country code, entity id and IPTC code a rule names must exist."""
    codes = set(load_topics_file().codes)
    problems = []
    for tag in taxonomy.tags:
        for rule in tag.rules:
            refs = [*rule.places, *rule.entities, *(r for side in rule.actors or () for r in side)]
            for ref in refs:
                if _is_country_code(ref):
                    if kb.country(ref) is None:
                        problems.append(f"{tag.id}: unknown country {ref}")
                elif kb.get(ref) is None:
                    problems.append(f"{tag.id}: unknown entity id {ref}")
            problems.extend(f"{tag.id}: unknown IPTC code {c}" for c in rule.iptc if c not in codes)
    if problems:
        raise ValueError("; ".join(problems[:20]))


def _apply(rule: _Rule, article: _Article) -> _Fired | None:
    """The rule's result on the article, or None when a condition fails."""
    spec, sides, keywords = rule.spec, rule.sides, rule.keywords
    checks: list[Callable[[], _Fired | None]] = []
    if spec.places:
        checks.append(lambda: _places(spec.places, article))
    if spec.entities:
        checks.append(lambda: _entities(spec, article))
    if sides is not None:
        checks.append(lambda: _actors(sides, spec, article))
    if keywords is not None:
        checks.append(lambda: _keywords(keywords, article))
    if spec.iptc:
        checks.append(lambda: _iptc(spec.iptc, article))
    parts = []
    for check in checks:
        part = check()
        if part is None:
            return None
        parts.append(part)
    return _Fired(
        score=min(part.score for part in parts),
        entities=list(dict.fromkeys(e for part in parts for e in part.entities)),
        terms=list(dict.fromkeys(t for part in parts for t in part.terms)),
        sentences=sorted({s for part in parts for s in part.sentences}),
    )


def _places(codes: Sequence[str], article: _Article) -> _Fired | None:
    found = [code for code in codes if code in article.places]
    if not found:
        return None
    best = max(article.place_scores.values(), default=0.0) or 1.0
    ids = [
        e.id
        for e in article.entities.values()
        if (entry := article.kb.get(e.id)) is not None
        and entry.country in found
        and entry.kind in KIND_WEIGHT
    ]
    return _Fired(
        score=min(1.0, max(article.place_scores.get(code, 0.0) for code in found) / best),
        entities=ids,
        terms=[],
        sentences=_first_sentences(ids, article),
    )


def _entities(spec: TagRule, article: _Article) -> _Fired | None:
    found = [
        entity
        for ref in spec.entities
        if (entity := article.entities.get(ref)) is not None
        and entity.salience >= spec.min_salience
        and len(entity.mentions) >= spec.min_mentions
    ]
    if not found:
        return None
    ids = [entity.id for entity in found]
    top = article.top_salience or 1.0
    return _Fired(
        score=min(1.0, max(entity.salience for entity in found) / top),
        entities=ids,
        terms=[],
        sentences=_first_sentences(ids, article),
    )


def _actors(
    sides: tuple[frozenset[str], frozenset[str]], spec: TagRule, article: _Article
) -> _Fired | None:
    present = [[i for i in side if i in article.entities] for side in sides]
    salience = [sum(article.entities[i].salience for i in ids) for ids in present]
    if min(salience) <= 0 or min(salience) < spec.min_salience:
        return None
    in_sentence = [{s for i in ids for s in article.in_sentences[i]} for ids in present]
    together = sorted(in_sentence[0] & in_sentence[1])
    in_title = all(article.in_title & set(ids) for ids in present)
    count = len(together) + (1 if in_title else 0)
    if count < spec.min_sentences:
        return None
    strength = min(1.0, count / (2 * spec.min_sentences))
    return _Fired(
        score=strength * min(1.0, min(salience) / FULL_ACTOR_SALIENCE),
        entities=[i for ids in present for i in ids],
        terms=["title"] if in_title else [],
        sentences=together,
    )


def _keywords(pattern: re.Pattern[str], article: _Article) -> _Fired | None:
    terms: list[str] = []
    sentences: list[int] = []
    for text, in_body in ((article.title, False), (article.body, True)):
        for match in pattern.finditer(text):
            terms.append(match.group().lower())
            if in_body:
                sentences.append(article.sentences.index(match.start()))
    if not terms:
        return None
    return _Fired(
        score=min(1.0, 0.5 + 0.25 * (len(terms) - 1)),
        entities=[],
        terms=list(dict.fromkeys(terms)),
        sentences=sorted(set(sentences)),
    )


def _iptc(codes: Sequence[str], article: _Article) -> _Fired | None:
    found = [code for code in codes if code in article.iptc]
    if not found:
        return None
    return _Fired(
        score=max(article.iptc[code] for code in found), entities=[], terms=found, sentences=[]
    )


def _first_sentences(ids: Sequence[str], article: _Article) -> list[int]:
    found: set[int] = set()
    for i in ids:
        found.update(article.in_sentences.get(i, ())[:1])
    return sorted(found)


def _evidence(rule_id: str, found: _Fired, article: _Article) -> TopicEvidence:
    spans = [article.sentences.spans[i] for i in found.sentences[:EVIDENCE_SENTENCES]]
    return TopicEvidence(
        rule=rule_id,
        entities=found.entities,
        terms=found.terms,
        sentences=[Span(start=start, end=end) for start, end in spans],
    )


def _title_grams(title: str) -> set[str]:
    """Folded word sequences (1 to 4 words) of a title."""
    words = [w.strip(_EDGE_PUNCTUATION) for w in _TITLE_WORD.findall(title)]
    words = [w for w in words if w]
    return {
        fold(" ".join(words[i : i + n])) for n in range(1, 5) for i in range(len(words) - n + 1)
    }


@lru_cache(maxsize=4)
def load_tagger(path: Path | None = None, mode: TaxonomyMode = "extend") -> Tagger:
    """A :class:`Tagger` for :func:`load_taxonomy`, once per file and mode."""
    return Tagger(load_taxonomy(path, mode))
