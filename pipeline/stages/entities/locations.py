"""The locations stage: the places each article names, resolved in the gazetteer
(:mod:`pipeline.stages.entities.toponyms`), and the institutions many countries have ("the
Senate", "the Supreme Court") linked to the story's own country
(:mod:`pipeline.stages.entities.institutions`). It runs after the entities stage and before the
stages that read the entities; an article it fails on keeps its entities as linked, without
locations."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.resources.gazetteer import Gazetteer
from pipeline.resources.kb import KnowledgeBase
from pipeline.stages.base import ArticleRecord, BatchContext, Stage
from pipeline.stages.entities.institutions import relink_institutions
from pipeline.stages.entities.toponyms import resolve_locations


class LocationsStage(Stage):
    """The ``locations`` stage (see the module docstring)."""

    name = "locations"
    reads = ("entities",)
    writes = ("locations", "entities")

    def __init__(
        self, kb: KnowledgeBase, gazetteer: Gazetteer, languages: frozenset[str] | None = None
    ) -> None:
        super().__init__(languages)
        self.kb = kb
        self.gazetteer = gazetteer

    def load(self) -> None:
        self.gazetteer.load()

    def run(self, records: Sequence[ArticleRecord], batch: BatchContext) -> None:
        for record in records:
            article, entities = record.article, record.entities or []
            locations = resolve_locations(
                entities,
                article.body,
                article.title,
                gazetteer=self.gazetteer,
                kb=self.kb,
                domain=article.source.domain,
            )
            record.entities = relink_institutions(
                entities, article.body, article.title, locations, kb=self.kb
            )
            record.locations = locations
