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
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort

from pipeline import DATA_DIR
from pipeline.models import (
    THRESHOLD,
    Entity,
    Quote,
    Stance,
    polarity,
)
from pipeline.resources.kb import KnowledgeBase, default_kb
from pipeline.stages.attribution.holders import PreparedArticle, find_stances, pronoun_mentions
from pipeline.stages.attribution.stance_input import Encoder, chunks, pad
from pipeline.stages.base import ArticleRecord, BatchContext, Stage
from pipeline.text.sentences import Sentences
from pipeline.text.titles import title_mentions

__all__ = [
    "BUNDLED",
    "FAST_MODEL_DIR",
    "LITE_MODEL_DIR",
    "MODEL_DIR",
    "THRESHOLD",
    "StanceModel",
    "StanceStage",
    "analyse_stance",
    "load_model",
    "model_dir",
    "model_inputs",
    "polarity",
    "sentiment",
    "tokenizer_file",
]


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
MIN_WORDS = 4
"""Shorter sentences carry no stance and are not run through the model."""


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


# -- the stage ----------------------------------------------------------------------------------


def analyse_stance(
    articles: Sequence[tuple[str, Sequence[Entity], Sequence[Quote]]],
    model: StanceModel | None = None,
    kb: KnowledgeBase | None = None,
) -> list[tuple[list[Entity], list[Stance]]]:
    """For each (body, entities, quotes): the entities with pronoun and title mentions added
    (titles such as "the mayor" from ``kb``) and ``sentiment`` set on every mention and entity,
    and the stances. The whole batch is scored in shared inference calls."""
    model = model or load_model()
    kb = kb or default_kb()
    prepared = [_prepare(body, entities, quotes, kb) for body, entities, quotes in articles]
    inputs = _inputs(prepared)
    scores: dict[tuple[int, int], np.ndarray] = {}
    if inputs:
        probabilities = model.probabilities([i[1] for i in inputs], [i[2] for i in inputs])
        scores = dict(zip([i[0] for i in inputs], probabilities, strict=True))
    return [_finish(a_index, article, scores) for a_index, article in enumerate(prepared)]


def model_inputs(
    articles: Sequence[tuple[str, Sequence[Entity], Sequence[Quote]]],
    kb: KnowledgeBase | None = None,
) -> list[tuple[str, list[tuple[int, int]]]]:
    """What :func:`analyse_stance` gives the model for these articles: each sentence to score
    and the character spans of the mentions in it (for training a model on run-time inputs)."""
    kb = kb or default_kb()
    prepared = [_prepare(body, entities, quotes, kb) for body, entities, quotes in articles]
    return [(text, spans) for _, text, spans in _inputs(prepared)]


def _inputs(
    prepared: Sequence[PreparedArticle],
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


def with_mentions(
    body: str, entities: Sequence[Entity], kb: KnowledgeBase, spans: Sentences | None = None
) -> list[Entity]:
    """``entities`` with the pronoun and title mentions the stance stage adds to them."""
    spans = spans if spans is not None else Sentences.of(body)
    pronouns = pronoun_mentions(body, entities, spans)
    titles = title_mentions(body, entities, kb)
    merged = []
    for entity in entities:
        extra = pronouns.get(entity.id, []) + titles.get(entity.id, [])
        if extra:
            mentions = sorted([*entity.mentions, *extra], key=lambda m: m.start)
            entity = entity.model_copy(update={"mentions": mentions})
        merged.append(entity)
    return merged


def _prepare(
    body: str, entities: Sequence[Entity], quotes: Sequence[Quote], kb: KnowledgeBase
) -> PreparedArticle:
    spans = Sentences.of(body)
    merged = with_mentions(body, entities, kb, spans)
    article = PreparedArticle(body, merged, quotes, spans)
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
    a_index: int, article: PreparedArticle, scores: dict[tuple[int, int], np.ndarray]
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
    return entities, find_stances(article, entities)


class StanceStage(Stage):
    """The ``stance`` stage: sentiment on every mention and entity (pronoun and title mentions
    added) and the stances, for the whole batch in shared inference calls. A batch taken while
    the worker is behind is scored by the backlog model; ``counted(model, behind, n)`` hears of
    every scored batch. An article it fails on goes on without sentiment or stances."""

    name = "stance"
    reads = ("entities", "quotes")
    writes = ("entities", "stances", "stance_model")

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        model: str = "standard",
        backlog_model: str = "",
        counted: Callable[[str, bool, int], None] | None = None,
        languages: frozenset[str] | None = None,
    ) -> None:
        super().__init__(languages)
        self.kb = kb
        # resolved now, so that a wrong setting stops the worker or command at once
        main = (model, model_dir(model))
        behind = (backlog_model, model_dir(backlog_model)) if backlog_model else main
        self.models = {False: main, True: main if behind[1] == main[1] else behind}
        """By whether the worker is behind: the model's name (as the settings give it) and
        its directory."""
        self._counted = counted

    def model_for(self, *, behind: bool) -> tuple[str, StanceModel]:
        """The classifier's name and the classifier (loaded once) for a batch."""
        name, directory = self.models[behind]
        return name, load_model(directory)

    def load(self) -> None:
        for behind in (False, True):
            self.model_for(behind=behind)

    def variant(self, language: str | None) -> str:
        return "en"

    def run(self, records: Sequence[ArticleRecord], batch: BatchContext) -> None:
        name, model = self.model_for(behind=batch.behind)
        found = analyse_stance(
            [(r.article.body, r.entities or [], r.quotes or []) for r in records], model, self.kb
        )
        for record, (entities, stances) in zip(records, found, strict=True):
            record.entities, record.stances, record.stance_model = entities, stances, name
        if self._counted is not None and records:
            self._counted(name, batch.behind, len(records))
