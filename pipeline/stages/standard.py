"""The list of article stages the enricher runs by default, in order, built from the settings
with the knowledge base and the gazetteer they share. Adding a stage: write it (see
:mod:`pipeline.stages.base`) and add it here."""

from __future__ import annotations

from pipeline.metrics import Metrics
from pipeline.resources.gazetteer import GAZETTEER_PATH, Gazetteer
from pipeline.resources.kb import KnowledgeBase
from pipeline.settings import Settings
from pipeline.stages.attribution.foreign import LANGUAGES as QUOTED
from pipeline.stages.attribution.quotes import QuotesStage
from pipeline.stages.attribution.stance import StanceStage
from pipeline.stages.base import Stage
from pipeline.stages.entities.locations import LocationsStage
from pipeline.stages.entities.recognise import EntitiesStage
from pipeline.stages.topics.topics import TopicsStage

ENGLISH = frozenset(["en"])


def standard_stages(
    settings: Settings,
    kb: KnowledgeBase,
    metrics: Metrics | None = None,
    gazetteer: Gazetteer | None = None,
) -> list[Stage]:
    """entities, locations, quotes, stance (unless ``stance_enabled`` is off), topics: each
    for the languages of ``enrich_languages`` that it has a model for (entities, locations and
    topics: English, and every language with ``ner_multilingual_model``; quotes: English and
    the languages of :mod:`pipeline.stages.attribution.foreign`; stance: English).
    ``gazetteer`` defaults to the file of ``gazetteer_path``."""
    languages = settings.languages
    english = ENGLISH if languages is None else languages & ENGLISH
    named = languages if settings.ner_multilingual_model else english
    """The languages with a recogniser, which the stages that read entities serve."""
    quoted = english | (QUOTED if named is None else named & QUOTED)
    if gazetteer is None:
        gazetteer = Gazetteer(settings.gazetteer_path or GAZETTEER_PATH)
    stages: list[Stage] = [
        EntitiesStage(
            kb,
            model=settings.ner_model,
            multilingual_model=settings.ner_multilingual_model,
            batch_size=settings.batch_size,
            languages=named,
        ),
        LocationsStage(kb, gazetteer, named),
        QuotesStage(kb, quoted),
    ]
    if settings.stance_enabled:
        stance = StanceStage(
            kb,
            model=settings.stance_model,
            backlog_model=settings.stance_backlog_model,
            counted=metrics.count_stance if metrics is not None else None,
            languages=english,
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
            languages=named,
        )
    )
    return stages
