"""The stance stage: the sentiment expressed towards each entity mention in its sentence, in
[-1, 1], the entity's mean over its mentions, and "holder expresses polarity towards target"
stances with the sentences that show them.

The classifier is a small transformer fine-tuned for target-dependent sentiment: the first
layers of all-MiniLM-L6-v2 trained on NewsMTSC (``scripts/train_stance.py``), exported to ONNX
with int8 weights and run with onnxruntime (``pipeline/data/stance/``; a three-layer model
taught by it, at half the cost, in ``pipeline/data/stance-fast/``, and a narrow four-layer one
at a quarter, in ``pipeline/data/stance-lite/``). Its input is one
sentence with every entity mention in it wrapped in marker tokens; one inference per sentence
scores all its mentions (the logits are read at each mention's opening marker). A mention's
sentiment is P(positive) - P(negative), moved where needed so that its reading (below -0.2
negative, above 0.2 positive, neutral between) is the most probable class.

Person mentions include the pronouns he, she, him, her, his and himself/herself, resolved to
the nearest person named earlier in the same or the previous two sentences whose honorific, if
any ("Mr", "Mrs", "Ms"), fits the pronoun (there is no other gender check), and title phrases
("the senator", "the foreign minister") resolved to the nearest person named before them who
holds that title (``pipeline/stages/titles.py``, shared with the quotations stage).
The holder of a stance is the speaker of the quotation a mention sits in (the quotations
stage), else ``author``, the article's own voice; a stance is reported when at least one of the
holder's mentions of the target is polar, with the mean of those polar scores. Within a
sentence, a person or organisation followed by a verb of evaluation ("X called ...", "X accused
...", "X praised ...") holds the stance towards what follows it, inside a quote or not. Its
evidence is the sentences of the mentions of its polarity; for a quoted holder, the quote's
part of them.

Sentences of fewer than :data:`MIN_WORDS` words (captions, datelines) are not run through the
model: their mentions are neutral (0.0).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from pipeline import DATA_DIR
from pipeline.models import (
    THRESHOLD,
    Entity,
    EntityType,
    Mention,
    Quote,
    Span,
    Stance,
    polarity,
)
from pipeline.resources.kb import default_kb
from pipeline.text.sentences import Sentences
from pipeline.text.titles import title_mentions

__all__ = [
    "BUNDLED",
    "FAST_MODEL_DIR",
    "LITE_MODEL_DIR",
    "MODEL_DIR",
    "THRESHOLD",
    "Encoder",
    "StanceModel",
    "Window",
    "analyse_stance",
    "load_model",
    "model_dir",
    "model_inputs",
    "polarity",
    "sentiment",
    "tokenizer_file",
]

T = TypeVar("T")

MODEL_DIR = DATA_DIR / "stance"
"""The shipped model: ``model.onnx`` (int8) and ``meta.json`` (naming its tokenizer)."""
TOKENIZERS_DIR = DATA_DIR / "tokenizers"
"""The tokenizers the shipped models share, ``<name>.json`` (MiniLM's WordPiece: ``minilm``)."""
FAST_MODEL_DIR = MODEL_DIR.parent / "stance-fast"
"""The shipped fast model: three layers trained on NewsMTSC and on what the six-layer model
says of unlabelled political news (``scripts/stance_teacher.py``); half the cost."""
LITE_MODEL_DIR = MODEL_DIR.parent / "stance-lite"
"""The shipped lite model: four layers of width 128 (MiniLM's are 384), its embeddings
MiniLM's reduced to 128 dimensions, taught by the six-layer model on NewsMTSC and unlabelled
news (PolNeAR, Reuters-21578, CoNLL-2003 texts); a quarter of the cost, less accurate."""
BUNDLED = {"standard": MODEL_DIR, "fast": FAST_MODEL_DIR, "lite": LITE_MODEL_DIR}
MAX_TOKENS = 96
"""Longest model input in tokens; longer sentences are cut into windows around the mentions."""
MIN_WORDS = 4
"""Shorter sentences carry no stance and are not run through the model."""
BATCH = 32
"""Most windows per inference call."""
PADDING = 1.25
"""Longest window of an inference call, as a multiple of its shortest (see :func:`chunks`)."""
AUTHOR = "author"
START_MARK = "[unused0]"
END_MARK = "[unused1]"


def sentiment(probabilities: np.ndarray) -> np.ndarray:
    """Scores in [-1, 1] from rows of (negative, neutral, positive) probabilities: P(positive) -
    P(negative), moved to the nearest value that reads as the most probable class where the two
    disagree (into [-THRESHOLD, THRESHOLD] when neutral is the most probable, just past the
    threshold when a polar class is). Rounded to 3 decimals."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1, 3)
    score = p[:, 2] - p[:, 0]
    best = p.argmax(axis=1)
    edge = THRESHOLD + 0.001
    score = np.where(best == 1, np.clip(score, -THRESHOLD, THRESHOLD), score)
    score = np.where(best == 0, np.minimum(score, -edge), score)
    score = np.where(best == 2, np.maximum(score, edge), score)
    result: np.ndarray = np.round(score, 3)
    return result


# -- model input --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """One model input: token ids with marked targets; ``positions[k]`` is the index of the
    opening marker of the caller's span number ``targets[k]``."""

    ids: list[int]
    positions: list[int]
    targets: list[int]


class Encoder:
    """Turns a text and the character spans of its targets into :class:`Window` inputs: the
    WordPiece tokens of the text with each target between ``[unused0]`` and ``[unused1]``,
    ``[CLS]`` first and ``[SEP]`` last, at most ``max_tokens`` long. A text too long for one
    window is cut into several, each centred on the first target not yet placed; every target
    falls in exactly one window. Overlapping spans after the first are not scored."""

    def __init__(self, tokenizer: Tokenizer, max_tokens: int = MAX_TOKENS) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.cls = _token_id(tokenizer, "[CLS]")
        self.sep = _token_id(tokenizer, "[SEP]")
        self.start = _token_id(tokenizer, START_MARK)
        self.end = _token_id(tokenizer, END_MARK)

    @classmethod
    def from_file(cls, path: Path, max_tokens: int = MAX_TOKENS) -> Encoder:
        return cls(Tokenizer.from_file(str(path)), max_tokens)

    def windows(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[list[Window]]:
        """The windows of each text; ``spans[i]`` are the targets of ``texts[i]``."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [self._windows(e.ids, e.offsets, s) for e, s in zip(encodings, spans, strict=True)]

    def _windows(
        self, ids: list[int], offsets: list[tuple[int, int]], spans: Sequence[tuple[int, int]]
    ) -> list[Window]:
        # token range [first, last] of each span; spans with no token or overlapping are left out
        ranges: list[tuple[int, int, int]] = []
        for k, (a, b) in sorted(enumerate(spans), key=lambda s: s[1]):
            first = next((i for i, (_, e) in enumerate(offsets) if e > a), None)
            if first is None or offsets[first][0] >= b:
                continue
            last = first
            while last + 1 < len(offsets) and offsets[last + 1][0] < b:
                last += 1
            if ranges and first <= ranges[-1][1]:
                continue
            ranges.append((first, last, k))
        out: list[Window] = []
        budget = self.max_tokens - 2
        while ranges:
            if len(ids) + 2 * len(ranges) <= budget:
                lo, hi = 0, len(ids)
            else:
                width = max(budget // 2, budget - 2 * len(ranges))
                lo = max(0, min(ranges[0][0] - width // 3, len(ids) - width))
                hi = lo + width
            inside = [r for r in ranges if lo <= r[0] and r[1] < hi]
            inside = inside[: (budget - (hi - lo)) // 2] or [ranges[0]]
            if not (lo <= inside[0][0] and inside[0][1] < hi):  # a target longer than a window
                lo, hi = inside[0][0], min(inside[0][1] + 1, inside[0][0] + budget - 2)
            out.append(self._window(ids, lo, hi, inside))
            placed = {r[2] for r in inside}
            ranges = [r for r in ranges if r[2] not in placed]
        return out

    def _window(
        self, ids: list[int], lo: int, hi: int, targets: list[tuple[int, int, int]]
    ) -> Window:
        tokens = [self.cls]
        positions = []
        marks: dict[int, int] = {}
        for first, last, _ in targets:
            marks[first] = marks.get(first, 0) | 1
            marks[min(last, hi - 1)] = marks.get(min(last, hi - 1), 0) | 2
        for i in range(lo, hi):
            if marks.get(i, 0) & 1:
                positions.append(len(tokens))
                tokens.append(self.start)
            tokens.append(ids[i])
            if marks.get(i, 0) & 2:
                tokens.append(self.end)
        tokens.append(self.sep)
        return Window(tokens, positions, [k for _, _, k in targets])


def _token_id(tokenizer: Tokenizer, token: str) -> int:
    found = tokenizer.token_to_id(token)
    if found is None:
        raise ValueError(f"the tokenizer has no {token} token")
    return found


def pad(windows: Sequence[Window]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and attention mask of a batch of windows, right-padded with 0."""
    width = max(len(w.ids) for w in windows)
    ids = np.zeros((len(windows), width), dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, window in enumerate(windows):
        ids[row, : len(window.ids)] = window.ids
        mask[row, : len(window.ids)] = 1
    return ids, mask


# -- the model ----------------------------------------------------------------------------------


class StanceModel:
    """The ONNX classifier: probabilities of negative, neutral, positive per target span.
    ``run`` is thread-safe (onnxruntime sessions are)."""

    def __init__(self, model_dir: Path = MODEL_DIR, *, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.encoder = Encoder.from_file(tokenizer_file(model_dir))

    def probabilities(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[np.ndarray]:
        """For each text, an array (len(spans[i]), 3) of class probabilities; a span that could
        not be scored (no token, or overlapping an earlier one) gets all-neutral (0, 1, 0)."""
        out = [np.tile(np.array([0.0, 1.0, 0.0], dtype=np.float32), (len(s), 1)) for s in spans]
        flat = [
            (i, w) for i, windows in enumerate(self.encoder.windows(texts, spans)) for w in windows
        ]
        flat.sort(key=lambda item: len(item[1].ids))
        for chunk in chunks(flat, key=lambda item: len(item[1].ids)):
            ids, mask = pad([w for _, w in chunk])
            (logits,) = self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
            for row, (i, window) in enumerate(chunk):
                scores = np.asarray(logits[row, window.positions], dtype=np.float32)
                out[i][window.targets] = _softmax(scores)
        return out


def chunks(items: Sequence[T], key: Callable[[T], int], size: int = BATCH) -> Iterator[list[T]]:
    """``items`` (sorted by ``key``, their length in tokens) cut into inference calls of at
    most ``size``, each padded to at most ``PADDING`` times its shortest item. One article's
    sentences run from a few tokens to ``MAX_TOKENS``: in one call, most of the work would go
    to padding, which made a lone article cost twice as much per sentence as a full batch."""
    chunk: list[T] = []
    for item in items:
        if chunk and (len(chunk) == size or key(item) > PADDING * key(chunk[0])):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    result: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return result


def tokenizer_file(model_dir: Path) -> Path:
    """The model's own ``tokenizer.json`` when it has one (a model directory of the user's),
    else the shared tokenizer its ``meta.json`` names (``"tokenizer"``; MiniLM's by default)."""
    own = model_dir / "tokenizer.json"
    if own.is_file():
        return own
    meta = model_dir / "meta.json"
    name = json.loads(meta.read_text(encoding="utf-8")).get("tokenizer") if meta.is_file() else None
    return TOKENIZERS_DIR / f"{name or 'minilm'}.json"


@lru_cache(maxsize=4)
def load_model(directory: Path = MODEL_DIR) -> StanceModel:
    """The model in ``directory`` (the shipped one by default), loaded once per process."""
    return StanceModel(directory)


def model_dir(name: str) -> Path:
    """The directory of a shipped model by name (``standard``, ``fast``, ``lite``), else
    ``name`` itself, which must hold ``model.onnx`` and ``tokenizer.json`` (ValueError saying
    which is missing)."""
    if name in BUNDLED:
        return BUNDLED[name]
    directory = Path(name)
    for file in ("model.onnx", "tokenizer.json"):
        if not (directory / file).is_file():
            raise ValueError(
                f"stance model {name!r}: not standard, fast or lite, and no {directory / file}"
            )
    return directory


# -- sentences and pronouns ---------------------------------------------------------------------

_PRONOUN = re.compile(r"\b(?:(he|him|his|himself)|(she|her|hers|herself))\b", re.IGNORECASE)
_PRONOUN_REACH = 2
"""A pronoun resolves to a person named in the same or this many previous sentences."""
_HONORIFIC = re.compile(r"\b(?:(Mr)|(Mrs|Ms|Miss))\.?\s+$")


def _pronoun_mentions(
    body: str, entities: Sequence[Entity], spans: Sentences
) -> dict[str, list[Mention]]:
    """Pronouns resolved to the nearest person mentioned before them within reach, skipping
    people whose honorific ("Mr", "Mrs", "Ms") says the pronoun cannot be theirs."""
    people = sorted(
        ((m.start, m.end, e.id) for e in entities if e.type is EntityType.PER for m in e.mentions),
    )
    if not people:
        return {}
    gender: dict[str, int] = {}
    for start, _, entity_id in people:
        honorific = _HONORIFIC.search(body, max(0, start - 6), start)
        if honorific is not None:
            gender.setdefault(entity_id, 1 if honorific.group(1) else 2)
    starts = [p[0] for p in people]
    found: dict[str, list[Mention]] = defaultdict(list)
    for match in _PRONOUN.finditer(body):
        pronoun = 1 if match.group(1) else 2
        floor = spans.spans[max(0, spans.index(match.start()) - _PRONOUN_REACH)][0]
        k = bisect_right(starts, match.start()) - 1
        while k >= 0 and people[k][0] >= floor:
            start, end, entity_id = people[k]
            if end <= match.start() and gender.get(entity_id, pronoun) == pronoun:
                found[entity_id].append(
                    Mention(
                        start=match.start(),
                        end=match.end(),
                        text=match.group(),
                        type=EntityType.PER,
                    )
                )
                break
            k -= 1
    return found


# -- the stage ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Article:
    body: str
    entities: list[Entity]
    quotes: Sequence[Quote]
    sentences: Sentences
    # per sentence index: the (entity index, mention index) pairs in it
    targets: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


def analyse_stance(
    articles: Sequence[tuple[str, Sequence[Entity], Sequence[Quote]]],
    model: StanceModel | None = None,
) -> list[tuple[list[Entity], list[Stance]]]:
    """For each (body, entities, quotes): the entities with pronoun mentions added and
    ``sentiment`` set on every mention and entity, and the stances. The whole batch is scored
    in shared inference calls."""
    model = model or load_model()
    prepared = [_prepare(body, entities, quotes) for body, entities, quotes in articles]
    inputs = _inputs(prepared)
    scores: dict[tuple[int, int], np.ndarray] = {}
    if inputs:
        probabilities = model.probabilities([i[1] for i in inputs], [i[2] for i in inputs])
        scores = dict(zip([i[0] for i in inputs], probabilities, strict=True))
    return [_finish(a_index, article, scores) for a_index, article in enumerate(prepared)]


def model_inputs(
    articles: Sequence[tuple[str, Sequence[Entity], Sequence[Quote]]],
) -> list[tuple[str, list[tuple[int, int]]]]:
    """What :func:`analyse_stance` gives the model for these articles: each sentence to score
    and the character spans of the mentions in it (for training a model on run-time inputs)."""
    prepared = [_prepare(body, entities, quotes) for body, entities, quotes in articles]
    return [(text, spans) for _, text, spans in _inputs(prepared)]


def _inputs(
    prepared: Sequence[_Article],
) -> list[tuple[tuple[int, int], str, list[tuple[int, int]]]]:
    """(article index, sentence index), sentence text, mention spans in it, per scored sentence."""
    out = []
    for a_index, article in enumerate(prepared):
        for s_index, pairs in article.targets.items():
            s_start, s_end = article.sentences.spans[s_index]
            spans = [
                (m.start - s_start, m.end - s_start)
                for m in (article.entities[e].mentions[i] for e, i in pairs)
            ]
            out.append(((a_index, s_index), article.body[s_start:s_end], spans))
    return out


def _prepare(body: str, entities: Sequence[Entity], quotes: Sequence[Quote]) -> _Article:
    spans = Sentences.of(body)
    pronouns = _pronoun_mentions(body, entities, spans)
    titles = title_mentions(body, entities, default_kb())
    merged = []
    for entity in entities:
        extra = pronouns.get(entity.id, []) + titles.get(entity.id, [])
        if extra:
            mentions = sorted([*entity.mentions, *extra], key=lambda m: m.start)
            entity = entity.model_copy(update={"mentions": mentions})
        merged.append(entity)
    article = _Article(body, merged, quotes, spans)
    for e_index, entity in enumerate(merged):
        for m_index, mention in enumerate(entity.mentions):
            s = spans.index(mention.start)
            s_start, s_end = spans.spans[s]
            if not s_start <= mention.start < mention.end <= s_end:
                continue  # a mention across a sentence boundary
            if len(body[s_start:s_end].split()) < MIN_WORDS:
                continue
            article.targets.setdefault(s, []).append((e_index, m_index))
    return article


def _finish(
    a_index: int, article: _Article, scores: dict[tuple[int, int], np.ndarray]
) -> tuple[list[Entity], list[Stance]]:
    values: dict[tuple[int, int], float] = {}
    for s_index, pairs in article.targets.items():
        for pair, value in zip(pairs, sentiment(scores[(a_index, s_index)]), strict=True):
            values[pair] = float(value)
    entities = []
    for e_index, entity in enumerate(article.entities):
        mentions = [
            m.model_copy(update={"sentiment": values.get((e_index, i), 0.0)})
            for i, m in enumerate(entity.mentions)
        ]
        mean = sum(m.sentiment or 0.0 for m in mentions) / len(mentions) if mentions else 0.0
        entities.append(
            entity.model_copy(update={"mentions": mentions, "sentiment": round(mean, 3)})
        )
    return entities, _stances(article, entities)


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


def _stances(article: _Article, entities: Sequence[Entity]) -> list[Stance]:
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
