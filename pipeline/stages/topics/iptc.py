"""IPTC Media Topics: the news industry's subject codes (``medtop:...``) for an English article.

Every code is scored 0..1 as ``sigmoid(z)``, with ``z`` the sum of up to three kinds of evidence:

- a **linear model** over the words of the title and body (``pipeline/data/iptc_model.json``,
  one-vs-rest logistic regression trained by ``scripts/train_iptc.py`` on BBC News, with
  PolNeAR's US political news as more politics) for the five codes BBC News's categories
  cover: arts, culture, entertainment and media; economy, business and finance; politics;
  science and technology; sport;
- **seed lexicons** written for Mediamon (``pipeline/data/iptc_topics.yaml``) for every
  top-level code (the only evidence for crime, disaster, conflict, health, ...; extra evidence
  for the five learnt codes, whose model knows only BBC's words) and for the second-level codes
  (elections, armed conflict, international relations, ...): each matched term adds its weight,
  more for repeats (``1 + ln n``) and for a match in the title, over the square root of the
  article's length; a longer term matched at a position hides the shorter ones there, and a
  term of weight 0 only hides ("trade war" is not war);
- **linked entities** of the knowledge base, by kind ("armed-group" for conflict), office
  ("role:Foreign Minister" for international relations) or id, each up to its weight by
  salience.

The lexicon scale and the biases were set so that the lexicon codes rarely outscore the learnt
ones on BBC News's dev articles (cross-validated: ``bench/eval_topics.py --cv``) while a story
written for the tests on each of them gets it as its best code.

An article gets the top-level codes scoring at least the threshold, and always its best one;
a second-level code only under a top-level code it got, with enough evidence of its own. Each
topic carries its evidence: the model's strongest words, the matched terms with the sentences
they are in, the entities.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from pipeline import DATA_DIR
from pipeline.models import Entity, IptcCode, IptcCodeTable, Span, Topic, TopicEvidence
from pipeline.resources.kb import KnowledgeBase, default_kb
from pipeline.text.sentences import Sentences

MODEL_PATH = DATA_DIR / "iptc_model.json"
TOPICS_PATH = DATA_DIR / "iptc_topics.yaml"
SCHEME = "iptc"

TITLE_WEIGHT = 2.0
"""A word of the title counts this many times in the model's features and lexicon matches."""
LEXICON_SCALE = 0.4
"""Logit per unit of lexicon evidence (weights times ``1 + ln n``, over the length factor)."""
LENGTH_UNIT = 250
"""Words of an article of length factor 1; the factor is ``sqrt(words / LENGTH_UNIT)``."""
MIN_LENGTH_FACTOR = 0.6
SALIENCE_FULL = 0.05
"""An entity this salient gives the full weight of its kind; less salient ones a share."""
MIN_SECOND_LEVEL_HITS = 2
"""A second-level code needs at least this many matched terms (or entity evidence)."""
EVIDENCE_TERMS = 6
EVIDENCE_SENTENCES = 3

_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W\d_](?:[^\W_]|['\u2019])*")


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Lower-case words of ``text`` with their offsets; a possessive ``'s`` is dropped,
    hyphens split words ("air-strikes" is "air", "strikes") and dotted acronyms keep their
    inner dots ("U.S." is "u.s")."""
    out = []
    for match in _TOKEN.finditer(text):
        word = match.group().lower().replace("\u2019", "'")
        if word.endswith("'s"):
            word = word[:-2]
        word = word.strip("'.")
        if word:
            out.append((word, match.start(), match.end()))
    return out


def features(title: str | None, body: str) -> dict[str, float]:
    """The model's features of an article: word counts, title words counting double."""
    return _counts(tokens(title or ""), tokens(body))


def _counts(
    title_words: Sequence[tuple[str, int, int]], body_words: Sequence[tuple[str, int, int]]
) -> dict[str, float]:
    counts: dict[str, float] = {}
    for words, weight in ((title_words, TITLE_WEIGHT), (body_words, 1.0)):
        for word, _, _ in words:
            counts[word] = counts.get(word, 0.0) + weight
    return counts


def feature_vector(counts: dict[str, float]) -> dict[str, float]:
    """Sublinear term frequencies (``1 + ln tf``), L2-normalised over all the words."""
    values = {word: 1.0 + math.log(n) for word, n in counts.items() if n >= 1.0}
    norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
    return {word: v / norm for word, v in values.items()}


# The shipped data: code table and lexicons (models.IptcCodeTable), learned weights


@dataclass(frozen=True, slots=True)
class LinearModel:
    """One-vs-rest logistic regression weights per code over :func:`feature_vector`."""

    codes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        codes = tuple(data["codes"])
        weights = {word: tuple(w) for word, w in data["weights"].items()}
        if len(data["bias"]) != len(codes) or any(len(w) != len(codes) for w in weights.values()):
            raise ValueError(f"{path}: weights do not match the {len(codes)} codes")
        return cls(codes, tuple(data["bias"]), weights)

    def logits(self, vector: dict[str, float]) -> tuple[list[float], list[list[tuple[float, str]]]]:
        """Logit per code, and per code the features that raised it, strongest first."""
        z = list(self.bias)
        raised: list[list[tuple[float, str]]] = [[] for _ in self.codes]
        for word, value in vector.items():
            weights = self.weights.get(word)
            if weights is None:
                continue
            for i, w in enumerate(weights):
                z[i] += w * value
                if w > 0:
                    raised[i].append((w * value, word))
        for contributions in raised:
            contributions.sort(reverse=True)
        return z, raised


@dataclass(frozen=True, slots=True)
class _Term:
    code: str
    text: str
    weight: float
    words: tuple[str, ...]
    prefix: bool
    """The last word is a prefix ("arrest*")."""


@dataclass(slots=True)
class _Hit:
    term: _Term
    text: str
    """The words matched, lower-case ("air strikes" for "air strike*")."""
    start: int
    in_title: bool


@dataclass(slots=True)
class _Evidence:
    z: float
    model_terms: list[str] = field(default_factory=list)
    hits: list[_Hit] = field(default_factory=list)
    entity_z: float = 0.0
    entities: list[str] = field(default_factory=list)


class Lexicon:
    """Every code's terms in one index: first word (or a prefix of it) to the terms."""

    def __init__(self, terms: Iterable[_Term]) -> None:
        self._exact: dict[str, list[_Term]] = {}
        self._prefix: dict[str, list[_Term]] = {}
        for term in terms:
            first = term.words[0]
            if term.prefix and len(term.words) == 1:
                self._prefix.setdefault(first, []).append(term)
            else:
                self._exact.setdefault(first, []).append(term)
        self._prefix_lengths = sorted({len(p) for p in self._prefix}, reverse=True)
        self._candidates = lru_cache(maxsize=100_000)(self._terms_starting)

    def _terms_starting(self, word: str) -> tuple[_Term, ...]:
        """The terms whose first word is ``word`` or a prefix of it."""
        candidates = list(self._exact.get(word, ()))
        for n in self._prefix_lengths:
            if n <= len(word):
                candidates.extend(self._prefix.get(word[:n], ()))
        return tuple(candidates)

    def match(self, words: Sequence[str]) -> list[tuple[int, _Term]]:
        """(position, term) of the matches in ``words``; per code and position only the
        longest term counts."""
        found: list[tuple[int, _Term]] = []
        for i, word in enumerate(words):
            candidates = self._candidates(word)
            if not candidates:
                continue
            best: dict[str, _Term] = {}
            for term in candidates:
                if _matches(term, words, i) and (
                    term.code not in best or len(term.words) > len(best[term.code].words)
                ):
                    best[term.code] = term
            found.extend((i, term) for term in best.values())
        return _hide_covered(found)


def _matches(term: _Term, words: Sequence[str], i: int) -> bool:
    n = len(term.words)
    if i + n > len(words):
        return False
    for k, expected in enumerate(term.words):
        word = words[i + k]
        last = k == n - 1
        if not (word.startswith(expected) if last and term.prefix else word == expected):
            return False
    return True


def _hide_covered(found: list[tuple[int, _Term]]) -> list[tuple[int, _Term]]:
    """Drop a match of a code inside a longer match of the same code ("strike" inside "air
    strike" for labour's blocking term)."""
    covered: dict[str, set[int]] = {}
    for i, term in found:
        if len(term.words) > 1:
            covered.setdefault(term.code, set()).update(range(i + 1, i + len(term.words)))
    return [(i, t) for i, t in found if i not in covered.get(t.code, ())]


def _parse_term(code: str, text: str, weight: float) -> _Term:
    words = tuple(word for word, _, _ in tokens(text.rstrip("*")))
    if not words or weight < 0:
        raise ValueError(f"{code}: bad lexicon term {text!r}")
    return _Term(code, text, weight, words, text.endswith("*"))


class IptcClassifier:
    """Scores the IPTC codes of an article; immutable once built, so safe across threads."""

    def __init__(
        self,
        spec: IptcCodeTable,
        model: LinearModel,
        *,
        min_score: float = 0.5,
        kb: KnowledgeBase | None = None,
    ) -> None:
        unknown = [code for code in model.codes if code not in spec.codes]
        if unknown:
            raise ValueError(f"the model scores codes missing from the code table: {unknown}")
        self.spec = spec
        self.model = model
        self.min_score = min_score
        self.kb = kb or default_kb()
        _check_entity_keys(spec, self.kb)
        self.lexicon = Lexicon(
            _parse_term(code, text, weight)
            for code, code_spec in spec.codes.items()
            for text, weight in code_spec.terms.items()
        )
        self.top_level = tuple(code for code, s in spec.codes.items() if s.parent is None)

    @classmethod
    def load(
        cls,
        model_path: Path | None = None,
        *,
        min_score: float = 0.5,
        kb: KnowledgeBase | None = None,
    ) -> IptcClassifier:
        """The shipped code table and lexicons with the weights at ``model_path`` (default:
        the shipped ones)."""
        model = LinearModel.load(model_path or MODEL_PATH)
        return cls(load_topics_file(), model, min_score=min_score, kb=kb)

    def label(self, code: str) -> str:
        return self.spec.codes[code].label

    def scores(
        self, title: str | None, body: str, entities: Sequence[Entity] = ()
    ) -> dict[str, float]:
        """Every code's score (top-level and second-level), without thresholds."""
        return {code: _sigmoid(e.z) for code, e in self._evidence(title, body, entities).items()}

    def classify(
        self, title: str | None, body: str, entities: Sequence[Entity] = ()
    ) -> list[Topic]:
        """The article's IPTC topics: top-level codes at or above the threshold (always the
        best one), then the second-level codes under them, each with its evidence."""
        evidence = self._evidence(title, body, entities)
        sentences = Sentences.of(body)
        top = sorted(self.top_level, key=lambda code: -evidence[code].z)
        chosen = [c for c in top if _sigmoid(evidence[c].z) >= self.min_score] or top[:1]
        topics = []
        for code in chosen:
            topics.append(self._topic(code, evidence[code], sentences))
            for child, spec in self.spec.codes.items():
                if spec.parent != code:
                    continue
                found = evidence[child]
                clear = len(found.hits) >= MIN_SECOND_LEVEL_HITS or found.entity_z > 0
                if clear and _sigmoid(found.z) >= self.min_score:
                    topics.append(self._topic(child, found, sentences))
        return topics

    def _evidence(
        self, title: str | None, body: str, entities: Sequence[Entity]
    ) -> dict[str, _Evidence]:
        title_words = tokens(title or "")
        body_words = tokens(body)
        logits, raised = self.model.logits(feature_vector(_counts(title_words, body_words)))
        evidence = {
            code: _Evidence(z=_default_bias(spec) if spec.bias is None else spec.bias)
            for code, spec in self.spec.codes.items()
        }
        for i, code in enumerate(self.model.codes):
            found = evidence[code]
            found.z = logits[i] + (self.spec.codes[code].bias or 0.0)
            found.model_terms = [word for _, word in raised[i][:EVIDENCE_TERMS]]
        length = max(MIN_LENGTH_FACTOR, math.sqrt(len(body_words) / LENGTH_UNIT))
        self._add_lexicon(evidence, title_words, body_words, length)
        self._add_entities(evidence, entities)
        return evidence

    def _add_lexicon(
        self,
        evidence: dict[str, _Evidence],
        title_words: list[tuple[str, int, int]],
        body_words: list[tuple[str, int, int]],
        length: float,
    ) -> None:
        hits: dict[str, list[_Hit]] = {}
        for words, in_title in ((title_words, True), (body_words, False)):
            plain = [word for word, _, _ in words]
            for i, term in self.lexicon.match(plain):
                if term.weight > 0:
                    text = " ".join(plain[i : i + len(term.words)])
                    hit = _Hit(term, text, words[i][1], in_title)
                    hits.setdefault(term.code, []).append(hit)
        for code, code_hits in hits.items():
            per_term = Counter(hit.term.text for hit in code_hits)
            weights = {hit.term.text: hit.term.weight for hit in code_hits}
            score = sum(weights[t] * (1.0 + math.log(n)) for t, n in per_term.items())
            score += sum(
                (TITLE_WEIGHT - 1.0) * hit.term.weight for hit in code_hits if hit.in_title
            )
            found = evidence[code]
            found.z += LEXICON_SCALE * score / length
            found.hits = code_hits

    def _add_entities(self, evidence: dict[str, _Evidence], entities: Sequence[Entity]) -> None:
        keys = [self._keys(entity) for entity in entities]
        for code, spec in self.spec.codes.items():
            if not spec.entities:
                continue
            found = evidence[code]
            cap = max(spec.entities.values())
            total = 0.0
            for entity, its_keys in zip(entities, keys, strict=True):
                weight = max((spec.entities.get(key, 0.0) for key in its_keys), default=0)
                if weight > 0:
                    total += weight * min(1.0, entity.salience / SALIENCE_FULL)
                    found.entities.append(entity.id)
            if total > 0:
                found.entity_z = min(total, 2 * cap)
                found.z += found.entity_z

    def _keys(self, entity: Entity) -> list[str]:
        entry = self.kb.get(entity.id)
        if entry is None:
            return [entity.id]
        return [entity.id, f"kind:{entry.kind}", *(f"role:{r.title}" for r in entry.roles)]

    def _topic(self, code: str, found: _Evidence, sentences: Sentences) -> Topic:
        spec = self.spec.codes[code]
        evidence = []
        if found.model_terms:
            evidence.append(TopicEvidence(rule="iptc:model", terms=found.model_terms))
        if found.hits:
            evidence.append(_lexicon_evidence(found.hits, sentences))
        if found.entities:
            evidence.append(TopicEvidence(rule="iptc:entities", entities=found.entities))
        return Topic(
            id=code,
            label=spec.label,
            scheme=SCHEME,
            score=round(_sigmoid(found.z), 4),
            parent=spec.parent,
            evidence=evidence,
        )


def _check_entity_keys(spec: IptcCodeTable, kb: KnowledgeBase) -> None:
    kinds = {entry.kind for entry in kb}
    roles = {role.title for entry in kb for role in entry.roles}
    for code, code_spec in spec.codes.items():
        for key in code_spec.entities:
            kind, _, name = key.partition(":")
            known = (
                name in kinds
                if kind == "kind"
                else name in roles
                if kind == "role"
                else kb.get(key) is not None
            )
            if not known:
                raise ValueError(f"{code}: {key!r} is no knowledge-base kind, role or id")


def _lexicon_evidence(hits: list[_Hit], sentences: Sentences) -> TopicEvidence:
    weight: dict[str, float] = {}
    by_sentence: dict[int, float] = {}
    for hit in hits:
        weight[hit.text] = weight.get(hit.text, 0.0) + hit.term.weight
        if not hit.in_title:
            index = sentences.index(hit.start)
            by_sentence[index] = by_sentence.get(index, 0.0) + hit.term.weight
    strongest = sorted(weight, key=lambda term: -weight[term])[:EVIDENCE_TERMS]
    chosen = sorted(sorted(by_sentence, key=lambda i: -by_sentence[i])[:EVIDENCE_SENTENCES])
    spans = [Span(start=s, end=e) for s, e in (sentences.spans[i] for i in chosen)]
    return TopicEvidence(rule="iptc:lexicon", terms=strongest, sentences=spans)


def _default_bias(spec: IptcCode) -> float:
    return -3.5 if spec.parent is None else -2.0


def _sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def load_topics_file(path: Path = TOPICS_PATH) -> IptcCodeTable:
    """The code table and lexicons."""
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    return IptcCodeTable.model_validate(data)


@lru_cache(maxsize=4)
def load_classifier(model_path: Path | None = None, min_score: float = 0.5) -> IptcClassifier:
    """:meth:`IptcClassifier.load`, once per model and threshold."""
    return IptcClassifier.load(model_path, min_score=min_score)
