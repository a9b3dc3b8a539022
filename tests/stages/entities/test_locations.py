"""The locations stage inside the enricher: events carry the resolved places, relinked
institutions and the places of the cities; a broken gazetteer fails the batch at load."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, EntityType, RawRecord
from pipeline.resources.gazetteer import Gazetteer
from pipeline.resources.kb import default_kb
from pipeline.settings import Settings
from pipeline.stages.base import ArticleRecord, BatchContext, Stage
from pipeline.stages.entities.linking import link_entities
from pipeline.stages.entities.locations import LocationsStage
from pipeline.stages.topics.topics import TopicsStage
from tests.stages.entities.test_places import mentions_of

LOC, ORG = EntityType.LOC, EntityType.ORG

# Invented: a Nigerian Senate story that names its cities but never its country.
BODY = (
    "The Senate on Tuesday passed a bill to build a new railway between Kaduna and Zaria, "
    "after senators from Kano said the line would carry grain to the markets of Kaduna. "
    "Work on the line is to start next year, the transport committee said."
)
SPANS = [("Senate", ORG), ("Kaduna", LOC), ("Zaria", LOC), ("Kano", LOC)]


class GivenEntities(Stage):
    """The entities stage's part, with the mentions given rather than recognised."""

    name = "entities"
    writes = ("entities",)

    def run(self, records: Sequence[ArticleRecord], batch: BatchContext) -> None:
        for record in records:
            body = record.article.body
            record.entities = link_entities(mentions_of(body, SPANS), body, kb=default_kb())


def enrich(gazetteer: Gazetteer) -> EnrichedEvent:
    kb = default_kb()
    stages = [GivenEntities(), LocationsStage(kb, gazetteer), TopicsStage(kb)]
    enricher = Enricher(Settings(), stages=stages)
    record = RawRecord(value=orjson.dumps({"title": "Senate backs railway", "body": BODY}))
    (event,) = enricher.process([record])
    assert isinstance(event, EnrichedEvent)
    return event


def test_an_event_carries_its_locations_and_their_country() -> None:
    event = enrich(Gazetteer())
    kaduna = next(loc for loc in event.locations if loc.name == "Kaduna")
    assert (kaduna.kind, kaduna.country) == ("city", "NG")
    assert [(m.start, m.end) for m in kaduna.mentions] == [
        (i, i + 6) for i in (BODY.index("Kaduna"), BODY.rindex("Kaduna"))
    ]
    starts = [loc.mentions[0].start for loc in event.locations]
    assert starts == sorted(starts)
    assert event.places == ["NG"]
    assert "mm:org:senate:ng" in {e.id for e in event.entities}
    # the wire form keeps the field
    wire = orjson.loads(event.model_dump_json())
    assert wire["locations"][0]["id"] == event.locations[0].id


def test_a_missing_gazetteer_fails_at_load(tmp_path: Path) -> None:
    stage = LocationsStage(default_kb(), Gazetteer(tmp_path / "missing.sqlite"))
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        stage.load()
