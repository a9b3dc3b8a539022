"""The entities stage: named-entity recognition over article bodies with CoNLL types (PER, ORG,
LOC, MISC), then linking to the shipped knowledge base and grouping into entities with a
salience score (see :mod:`pipeline.stages.entities.linking`).

The recogniser is a spaCy pipeline: spaCy's tokenizer of the article's language, the transformer
token classifier (:mod:`pipeline.stages.entities.tagger`, built by ``scripts/train_tagger.py``)
as the ``tagger_ner`` component, then an entity ruler that adds the knowledge base's unambiguous
names where the model found nothing. English has its own model (``pipeline/data/tagger``);
every other language shares the multilingual one (``pipeline/data/tagger-xx``): one pipeline,
loaded when the stage first meets such an article, fed by each language's tokenizer. Any
installed spaCy pipeline package can be used for English instead; its OntoNotes labels are then
mapped to CoNLL types.

(No ``from __future__ import annotations`` here: spaCy reads the factory's annotations at run
time.)
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import spacy
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
    "MULTILINGUAL_DIR",
    "ONTONOTES_TO_CONLL",
    "EntitiesStage",
    "RawMention",
    "blank_for",
    "load_multilingual",
    "load_recogniser",
    "recognise",
    "tokenizer_for",
]

MODEL_DIR = DATA_DIR / "tagger"
MULTILINGUAL_DIR = DATA_DIR / "tagger-xx"
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


def keep_hyphenated(nlp: Language) -> Language:
    """``nlp`` whose tokenizer does not split a word at a hyphen between letters
    ("Okonjo-Iweala", "Auvergne-Rhône-Alpes"), as in the data the recognisers learnt from."""
    tokenizer: Any = nlp.tokenizer
    infixes = [p for p in nlp.Defaults.infixes or () if not re.search(p, "Rhône-Alpes")]
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


def blank_english() -> Language:
    """spaCy's English tokenizer, except that a hyphen between letters does not split a word
    ("Okonjo-Iweala", "Geneva-based") unless a lower-case prefix comes before a name
    ("counter-ISIL", "pro-Kremlin")."""
    nlp = keep_hyphenated(spacy.blank("en"))
    tokenizer: Any = nlp.tokenizer
    prefixes = [r"[a-z]+-(?=[A-Z])", *(nlp.Defaults.prefixes or ())]
    tokenizer.prefix_search = compile_prefix_regex(prefixes).search
    return nlp


_UNSPACED = frozenset(["zh", "ja", "th", "lo", "km", "my", "bo"])
"""Languages written without spaces between words: cut into characters for the recogniser."""


def blank_for(language: str) -> Language:
    """The tokenizer for ``language``: :func:`blank_english`, characters for a language written
    without spaces (spaCy's Chinese tokenizer), spaCy's own for the language, or its
    multi-language one where the language's needs a package Mediamon does not install
    (Korean, Vietnamese); hyphenated words kept whole (:func:`keep_hyphenated`)."""
    if language == "en":
        return blank_english()
    if language in _UNSPACED:
        return spacy.blank("zh")
    try:
        return keep_hyphenated(spacy.blank(language))
    except (ImportError, LookupError):
        return keep_hyphenated(spacy.blank("xx"))


def tokenizer_for(language: str, nlp: Any) -> Callable[[str], Doc]:
    """The tokenizer of ``language`` (:func:`blank_for`) making documents for ``nlp`` (the
    multilingual pipeline, which every language shares): its tokens, in ``nlp``'s
    vocabulary."""
    own = blank_for(language)

    def tokenize(text: str) -> Doc:
        tokens = own.make_doc(text)
        words = [t.text for t in tokens]
        return Doc(nlp.vocab, words=words, spaces=[bool(t.whitespace_) for t in tokens])

    return tokenize


_LAST_WORDS = frozenset(
    "of the and for in at on to a an 's "  # noqa: SIM905  # a list of words
    "de la le les des du d' l' del y e et en und der die das den dem "
    "von van het di da do dos".split()
)
"""Lower-case words a span the model tags never ends with ("commune de", "Transports en")."""


class TaggerComponent:
    """The spaCy component ``tagger_ner``: the transformer recogniser over the words of each
    document (spaCy's tokens without the whitespace ones), a batch of documents at a time."""

    def __init__(self, directory: Path) -> None:
        self.tagger = shared_tagger(directory)
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
                a += name_start([doc[kept[i]].text for i in range(a, b)])
                while b > a and doc[kept[b - 1]].text in _LAST_WORDS:
                    b -= 1
                if a < b:
                    entities.append(Span(doc, kept[a], kept[b - 1] + 1, label=kind))
            doc.ents = entities
        return docs


_PARTICLES = frozenset(
    "de la le les des du del della di da do dos das "  # noqa: SIM905  # a list of words
    "van von der den ten ter al el bin ibn".split()
)
"""Lower-case words that may start a name ("de Vries", "von der Leyen", "al-Assad")."""


def name_start(words: Sequence[str]) -> int:
    """Where the name in a span the model tags begins: after its leading lower-case words
    ("the", "of"; "commune de Rillieux-la-Pape", "gare de la Part-Dieu"), unless they are
    particles that start the name itself ("de Vries")."""
    i = 0
    while i < len(words) and words[i].islower() and words[i] not in _PARTICLES:
        i += 1
    if i:
        while i < len(words) and words[i] in _PARTICLES:
            i += 1
    return i


@cache
def shared_tagger(directory: Path) -> Tagger:
    """The classifier of ``directory``, loaded once for every pipeline that uses it (the
    multilingual model serves a pipeline per language)."""
    return Tagger(directory)


@Language.factory("tagger_ner", default_config={"directory": str(MODEL_DIR)})
def make_tagger(nlp: Language, name: str, directory: str) -> TaggerComponent:
    """spaCy's factory of the ``tagger_ner`` component."""
    return TaggerComponent(Path(directory))


def load_multilingual(model: str = BUNDLED_MODEL, *, kb: KnowledgeBase | None = None) -> Any:
    """The recogniser of every language but English: the multilingual classifier
    (``"bundled"`` or a directory of ``scripts/train_tagger.py --encoder e5``) and the entity
    ruler with the names of ``kb``, one pipeline whose documents each language's tokenizer
    makes (:func:`tokenizer_for`; its own tokenizer is spaCy's multi-language one)."""
    nlp = blank_for("xx")
    directory = MULTILINGUAL_DIR if model == BUNDLED_MODEL else Path(model)
    nlp.add_pipe("tagger_ner", config={"directory": str(directory)})
    add_kb_ruler(nlp, kb if kb is not None else default_kb())
    return nlp


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
    earlier = [name for name in nlp.pipe_names if name != "kb_ruler"]
    with nlp.select_pipes(disable=earlier):  # the ruler would run them over every name
        ruler.add_patterns(patterns)


def _rulable(name: str) -> bool:
    letters = name.replace(".", "")
    if name in _RULER_SKIP or len(letters) < 3 or not name[:1].isupper():
        return False
    if name.endswith(".") and not letters.isupper():
        return False  # abbreviations such as "Calif." only count in datelines
    return not (letters.isupper() and len(letters) <= 3 and "." not in name)


def recognise(
    nlp: Any,
    bodies: Sequence[str],
    batch_size: int,
    tokenizer: Callable[[str], Doc] | None = None,
) -> list[list[RawMention]]:
    """Run NER over ``bodies`` in one batched ``nlp.pipe`` call (their documents made by
    ``tokenizer`` when given, else by ``nlp``'s), then make each body's mentions consistent
    (:func:`~pipeline.stages.entities.consistency.consistent`); one mention list per body."""
    results: list[list[RawMention]] = []
    texts: Iterable[str | Doc] = bodies if tokenizer is None else map(tokenizer, bodies)
    for doc in nlp.pipe(texts, batch_size=batch_size):
        mentions = []
        for ent in doc.ents:
            etype = _LABELS.get(ent.label_)
            if etype is not None:
                mentions.append(RawMention(ent.start_char, ent.end_char, ent.text, etype))
        results.append(consistent(mentions, doc.text))
    return results


class EntitiesStage(Stage):
    """The ``entities`` stage: recognition over the batch, one ``nlp.pipe`` call per language,
    then linking per article. An article it fails on is dead-lettered: every later stage and
    the event rest on the entities."""

    name = "entities"
    writes = ("entities",)
    on_error = OnError.DEAD_LETTER

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        model: str = DEFAULT_NER_MODEL,
        multilingual_model: str | None = BUNDLED_MODEL,
        batch_size: int = 32,
        languages: frozenset[str] | None = None,
        nlp: Any = None,
    ) -> None:
        super().__init__(languages)
        self.kb = kb
        self.model = model
        self.multilingual_model = multilingual_model
        """The recogniser of every language but English (None: English only)."""
        self.batch_size = batch_size
        self._english: Any = nlp
        """The English pipeline: ``nlp`` when given (an evaluation's own), else loaded from
        ``model`` on first use."""
        self._multilingual: Any = None
        self._tokenizers: dict[str, Callable[[str], Doc]] = {}
        """The tokenizer of each other language met, feeding the multilingual pipeline."""

    def _key(self, language: str | None) -> str:
        if language == "en" or self.multilingual_model is None:
            return "en"
        return language or "xx"

    @property
    def nlp(self) -> Any:
        """The English pipeline, loaded on first use."""
        if self._english is None:
            self._english = load_recogniser(self.model, kb=self.kb)
        return self._english

    @property
    def multilingual(self) -> Any:
        """The pipeline of every other language, loaded on first use."""
        if self._multilingual is None:
            model = self.multilingual_model or BUNDLED_MODEL
            self._multilingual = load_multilingual(model, kb=self.kb)
        return self._multilingual

    def reader_for(self, language: str | None) -> tuple[Any, Callable[[str], Doc] | None]:
        """The pipeline that reads ``language`` and the tokenizer that feeds it (None: its
        own), loaded on first use."""
        key = self._key(language)
        if key == "en":
            return self.nlp, None
        if key not in self._tokenizers:
            self._tokenizers[key] = tokenizer_for(key, self.multilingual)
        return self.multilingual, self._tokenizers[key]

    def load(self) -> None:
        self.nlp  # noqa: B018  # loads it (the multilingual one when the stage first needs it)

    def variant(self, language: str | None) -> str:
        return "en" if self._key(language) == "en" else "multilingual"

    def run(self, records: Sequence[ArticleRecord], batch: BatchContext) -> None:
        by_language: dict[str, list[ArticleRecord]] = defaultdict(list)
        for record in records:
            by_language[self._key(record.language)].append(record)
        for language, group in by_language.items():
            nlp, tokenizer = self.reader_for(language)
            found = recognise(nlp, [r.article.body for r in group], self.batch_size, tokenizer)
            for record, mentions in zip(group, found, strict=True):
                article = record.article
                record.entities = link_entities(
                    mentions, article.body, article.title, year=record.year, kb=self.kb
                )
