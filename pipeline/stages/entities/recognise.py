"""The entities stage: named-entity recognition over article bodies with CoNLL types (PER, ORG,
LOC, MISC), then linking to the shipped knowledge base and grouping into entities with a
salience score (see :mod:`pipeline.stages.entities.linking`).

The recogniser is a spaCy pipeline: spaCy's English tokenizer, the transformer token classifier
shipped in ``pipeline/data/tagger`` (:mod:`pipeline.stages.entities.tagger`, built by
``scripts/train_tagger.py``) as the ``tagger_ner`` component, then an entity ruler that adds the
knowledge base's unambiguous names where the model found nothing. Any installed spaCy pipeline
package can be used instead; its OntoNotes labels are then mapped to CoNLL types.

(No ``from __future__ import annotations`` here: spaCy reads the factory's annotations at run
time.)
"""

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import spacy
from spacy.lang.char_classes import ALPHA, HYPHENS
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, compile_prefix_regex

from pipeline import DATA_DIR
from pipeline.models import EntityType
from pipeline.resources.kb import KnowledgeBase, default_kb
from pipeline.stages.base import ArticleRecord, BatchContext, OnError, Stage
from pipeline.stages.entities.consistency import consistent
from pipeline.stages.entities.linking import RawMention, link_entities
from pipeline.stages.entities.tagger import LABELS, Tagger, spans

__all__ = [
    "BUNDLED_MODEL",
    "DEFAULT_NER_MODEL",
    "MODEL_DIR",
    "ONTONOTES_TO_CONLL",
    "EntitiesStage",
    "RawMention",
    "load_recogniser",
    "recognise",
]

MODEL_DIR = DATA_DIR / "tagger"
BUNDLED_MODEL = "bundled"
"""The model name that selects the recogniser shipped in ``pipeline/data/tagger``."""
DEFAULT_NER_MODEL = BUNDLED_MODEL
USE_RULER = True
"""Whether the bundled recogniser gets the knowledge-base entity ruler."""

CONLL_LABELS: dict[str, EntityType] = {t.value: t for t in EntityType}

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
_LABELS = {**ONTONOTES_TO_CONLL, **CONLL_LABELS}

# Components of spaCy's English pipelines that named-entity recognition does not need: the NER
# component carries its own token-to-vector layer, so its output is identical without them.
_UNUSED_COMPONENTS = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]

# Names the entity ruler must not add on its own: common words, people's first names, sports
# teams' home towns and other readings that are often not the knowledge-base entry.
_RULER_SKIP = frozenset(
    [
        "Chad",
        "Jordan",
        "Georgia",
        "Turkey",
        "Niger",
        "Guinea",
        "Congo",
        "Victoria",
        "Jersey",
        "Lao",
        "Pole",
        "Poles",
        "Kiwi",
        "Kiwis",
        "Brit",
        "Brits",
        "Finn",
        "Finns",
        "Phoenix",
        "Austin",
        "Columbus",
        "Portland",
        "Charlotte",
        "Kingston",
        "Salvador",
        "Santiago",
        "Wellington",
        "Perth",
        "Lima",
        "Nashville",
        "Greenwich",
        "Stamford",
        "Sofia",
        "Commission",
        "Congress",
        "Senate",
        "Labour",
        "Conservatives",
        "Fed",
        "Wagner",
        "Amnesty",
        "Nusra",
        "Houthi",
        "Rio",
        "Lula",
        "Vatican",
        "America",
        "Cleveland",
        "Tories",
        "Democratic",
        "Republican",
        "Central",
        "Free",
        "Dominican",
        "Indian",
        "Irish",
        "Delaware",
        "Indiana",
        "Washington",
        "Hamilton",
        "Virginia",
        "Berne",
        "Capitol",
        "Liberian",
        "Mali",
        "Malian",
        "Leo",
        "Francis",
    ]
)


def load_recogniser(
    model: str = DEFAULT_NER_MODEL, *, ruler: bool | None = None, kb: KnowledgeBase | None = None
) -> Any:
    """Load the recogniser: ``"bundled"`` (the shipped model), a pipeline directory or an
    installed spaCy pipeline package, with only the components NER needs; its entity ruler
    takes the names of ``kb`` (default: the shipped knowledge base)."""
    if model == BUNDLED_MODEL or (Path(model) / "model.onnx").is_file():
        nlp = blank_english()
        directory = MODEL_DIR if model == BUNDLED_MODEL else Path(model)
        nlp.add_pipe("tagger_ner", config={"directory": str(directory)})
        use_ruler = USE_RULER if ruler is None else ruler
    else:
        nlp = spacy.load(model, exclude=_UNUSED_COMPONENTS)
        use_ruler = bool(ruler)
    if use_ruler:
        add_kb_ruler(nlp, kb if kb is not None else default_kb())
    return nlp


def blank_english() -> Language:
    """spaCy's English tokenizer, except that a hyphen between letters does not split a word
    ("Okonjo-Iweala", "Geneva-based"), as in the CoNLL-2003 data the recogniser learnt from,
    unless a lower-case prefix comes before a name ("counter-ISIL", "pro-Kremlin")."""
    nlp = spacy.blank("en")
    hyphen_infix = rf"(?<=[{ALPHA}0-9])(?:{HYPHENS})(?=[{ALPHA}])"
    tokenizer: Any = nlp.tokenizer
    infixes = [p for p in nlp.Defaults.infixes or () if p != hyphen_infix]
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    prefixes = [r"[a-z]+-(?=[A-Z])", *(nlp.Defaults.prefixes or ())]
    tokenizer.prefix_search = compile_prefix_regex(prefixes).search
    return nlp


_EDGE_WORDS = frozenset(["of", "the", "and", "for", "in", "at", "on", "to", "a", "an", "'s"])
"""Lower-case words a span the model tags never starts or ends with ("council of Leeds" tagged
from "of" gives "Leeds")."""


class TaggerComponent:
    """The spaCy component ``tagger_ner``: the transformer recogniser over the words of each
    document (spaCy's tokens without the whitespace ones), a batch of documents at a time."""

    def __init__(self, directory: Path) -> None:
        self.tagger = Tagger(directory)
        self.labels = sorted({label[2:] for label in LABELS if label != "O"})

    def __call__(self, doc: Doc) -> Doc:
        (tagged,) = self.pipe([doc])
        return tagged

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._tag(batch)
                batch = []
        yield from self._tag(batch)

    def _tag(self, docs: list[Doc]) -> list[Doc]:
        if not docs:
            return docs
        words, starts = [], []
        for doc in docs:
            kept = [t.i for t in doc if not t.is_space]
            words.append(kept)
            starts.append(
                frozenset(
                    n for n, i in enumerate(kept) if i > 0 and "\n" in doc[i - 1].text_with_ws
                )
            )
        scores = self.tagger.tag(
            [[d[i].text for i in w] for d, w in zip(docs, words, strict=True)], starts
        )
        for doc, kept, found in zip(docs, words, scores, strict=True):
            entities = []
            for a, b, kind in spans(found):
                while a < b and doc[kept[a]].text in _EDGE_WORDS:
                    a += 1
                while b > a and doc[kept[b - 1]].text in _EDGE_WORDS:
                    b -= 1
                if a < b:
                    entities.append(Span(doc, kept[a], kept[b - 1] + 1, label=kind))
            doc.ents = entities
        return docs


@Language.factory("tagger_ner", default_config={"directory": str(MODEL_DIR)})
def make_tagger(nlp: Language, name: str, directory: str) -> TaggerComponent:
    """spaCy's factory of the ``tagger_ner`` component."""
    return TaggerComponent(Path(directory))


def add_kb_ruler(nlp: Any, kb: KnowledgeBase) -> None:
    """Add an entity ruler after the recogniser that marks knowledge-base names (and
    demonyms) the recogniser left out; it never overrides the recogniser's entities."""
    patterns = []
    for entry in kb:
        label = entry.type.value
        for name in entry.names:
            if _rulable(name):
                patterns.append({"label": label, "pattern": name})
        for demonym in entry.demonyms:
            if _rulable(demonym):
                patterns.append({"label": EntityType.MISC.value, "pattern": demonym})
    ruler = nlp.add_pipe("entity_ruler", name="kb_ruler", config={"overwrite_ents": False})
    ruler.add_patterns(patterns)


def _rulable(name: str) -> bool:
    letters = name.replace(".", "")
    if name in _RULER_SKIP or len(letters) < 3 or not name[:1].isupper():
        return False
    if name.endswith(".") and not letters.isupper():
        return False  # abbreviations such as "Calif." only count in datelines
    return not (letters.isupper() and len(letters) <= 3 and "." not in name)


def recognise(nlp: Any, bodies: Sequence[str], batch_size: int) -> list[list[RawMention]]:
    """Run NER over ``bodies`` in one batched ``nlp.pipe`` call, then make each body's
    mentions consistent (:func:`~pipeline.stages.entities.consistency.consistent`); one
    mention list per body."""
    results: list[list[RawMention]] = []
    for doc in nlp.pipe(bodies, batch_size=batch_size):
        mentions = []
        for ent in doc.ents:
            etype = _LABELS.get(ent.label_)
            if etype is not None:
                mentions.append(RawMention(ent.start_char, ent.end_char, ent.text, etype))
        results.append(consistent(mentions, doc.text) if not os.environ.get("NOCONS") else mentions)
    return results


class EntitiesStage(Stage):
    """The ``entities`` stage: recognition over the batch in one ``nlp.pipe`` call, then
    linking per article. An article it fails on is dead-lettered: every later stage and the
    event rest on the entities."""

    name = "entities"
    writes = ("entities",)
    on_error = OnError.DEAD_LETTER

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        model: str = DEFAULT_NER_MODEL,
        batch_size: int = 32,
        languages: frozenset[str] | None = None,
        nlp: Any = None,
    ) -> None:
        super().__init__(languages)
        self.kb = kb
        self.model = model
        self.batch_size = batch_size
        self._nlp: Any = nlp
        """The spaCy pipeline: ``nlp`` when given (an evaluation's own), else loaded from
        ``model`` on first use."""

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline, loaded on first use."""
        if self._nlp is None:
            self._nlp = load_recogniser(self.model, kb=self.kb)
        return self._nlp

    def load(self) -> None:
        self.nlp  # noqa: B018  # loads it

    def run(self, records: Sequence[ArticleRecord], batch: BatchContext) -> None:
        found = recognise(self.nlp, [r.article.body for r in records], self.batch_size)
        for record, mentions in zip(records, found, strict=True):
            article = record.article
            record.entities = link_entities(
                mentions, article.body, article.title, year=record.year, kb=self.kb
            )
