"""The topics stage: each article's places (the countries it is about), then its IPTC Media
Topics (English: the classifier reads English words) and the taxonomy's tags (every language:
they rest on entities and places). An article it fails on keeps its places, without topics; a
model or taxonomy file that cannot be loaded fails the whole batch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.resources.kb import KnowledgeBase
from pipeline.stages.base import ArticleRecord, BatchContext, Stage
from pipeline.stages.entities.places import story_places
from pipeline.stages.topics.iptc import IptcClassifier
from pipeline.stages.topics.tags import Tagger, TaxonomyMode, load_taxonomy

IPTC_LANGUAGES = frozenset(["en"])
"""The languages whose words the IPTC classifier reads; other articles get the tags alone."""


class TopicsStage(Stage):
    """The ``topics`` stage (see the module docstring)."""

    name = "topics"
    reads = ("entities", "locations")
    writes = ("places", "topics")

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        iptc_model: Path | None = None,
        iptc_min_score: float = 0.5,
        taxonomy_path: Path | None = None,
        taxonomy_mode: TaxonomyMode = "extend",
        languages: frozenset[str] | None = None,
    ) -> None:
        super().__init__(languages)
        self.kb = kb
        self._iptc_args = (iptc_model, iptc_min_score)
        self._taxonomy_args = (taxonomy_path, taxonomy_mode)
        self._iptc: IptcClassifier | None = None
        self._tagger: Tagger | None = None

    @property
    def iptc(self) -> IptcClassifier:
        """The IPTC classifier, loaded on first use."""
        if self._iptc is None:
            path, min_score = self._iptc_args
            self._iptc = IptcClassifier.load(path, min_score=min_score, kb=self.kb)
        return self._iptc

    @property
    def tagger(self) -> Tagger:
        """The taxonomy's tagger, loaded on first use."""
        if self._tagger is None:
            self._tagger = Tagger(load_taxonomy(*self._taxonomy_args), self.kb)
        return self._tagger

    def variant(self, language: str | None) -> str:
        return "en" if language in IPTC_LANGUAGES else "any"

    def load(self) -> None:
        self.iptc  # noqa: B018  # loads them
        self.tagger  # noqa: B018

    def run(self, records: Sequence[ArticleRecord], batch: BatchContext) -> None:
        for record in records:
            article, entities = record.article, record.entities or []
            record.places = story_places(
                entities, article.body, article.title, kb=self.kb, locations=record.locations or ()
            )
            codes = (
                self.iptc.classify(article.title, article.body, entities)
                if record.language in IPTC_LANGUAGES
                else []
            )
            tags = self.tagger.tag(article.title, article.body, entities, record.places, codes)
            record.topics = codes + tags
