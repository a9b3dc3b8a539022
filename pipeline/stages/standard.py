"""The list of article stages the enricher runs by default, in order, built from the settings
with the knowledge base and the gazetteer they share. Adding a stage: write it (see
:mod:`pipeline.stages.base`) and add it here."""

from __future__ import annotations

from pipeline.metrics import Metrics
from pipeline.resources.gazetteer import GAZETTEER_PATH, Gazetteer
from pipeline.resources.kb import KnowledgeBase
from pipeline.settings import Settings
from pipeline.stages.attribution.quotes import QuotesStage
from pipeline.stages.attribution.stance import StanceStage
from pipeline.stages.base import Stage
from pipeline.stages.entities.locations import LocationsStage
from pipeline.stages.entities.recognise import EntitiesStage
from pipeline.stages.topics.topics import TopicsStage


def standard_stages(
    settings: Settings,
    kb: KnowledgeBase,
    metrics: Metrics | None = None,
    gazetteer: Gazetteer | None = None,
) -> list[Stage]:
    """entities, locations, quotes, stance (unless ``stance_enabled`` is off), topics: each
    for the languages of ``enrich_languages``. ``gazetteer`` defaults to the file of
    ``gazetteer_path``."""
    languages = frozenset(settings.enrich_languages)
    if gazetteer is None:
        gazetteer = Gazetteer(settings.gazetteer_path or GAZETTEER_PATH)
    stages: list[Stage] = [
        EntitiesStage(
            kb, model=settings.ner_model, batch_size=settings.batch_size, languages=languages
        ),
        LocationsStage(kb, gazetteer, languages),
        QuotesStage(kb, languages),
    ]
    if settings.stance_enabled:
        stance = StanceStage(
            kb,
            model=settings.stance_model,
            backlog_model=settings.stance_backlog_model,
            counted=metrics.count_stance if metrics is not None else None,
            languages=languages,
        )
        if metrics is not None:  # the series at zero from the start
            for behind, (name, _) in stance.models.items():
                metrics.count_stance(name, behind, 0)
        stages.append(stance)
    stages.append(
        TopicsStage(
            kb,
            iptc_model=settings.iptc_model,
            iptc_min_score=settings.iptc_min_score,
            taxonomy_path=settings.taxonomy_path,
            taxonomy_mode=settings.taxonomy_mode,
            languages=languages,
        )
    )
    return stages
