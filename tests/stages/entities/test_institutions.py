"""Institutions many countries have link to the country of their story."""

from __future__ import annotations

import pytest

from pipeline.models import Entity, EntityType
from pipeline.resources.gazetteer import Gazetteer
from pipeline.resources.kb import default_kb
from pipeline.stages.entities.institutions import generic_name, relink_institutions
from pipeline.stages.entities.linking import link_entities
from pipeline.stages.entities.places import find_places
from pipeline.stages.entities.toponyms import resolve_locations
from tests.stages.entities.test_places import mentions_of

ORG, LOC, MISC = EntityType.ORG, EntityType.LOC, EntityType.MISC


def linked(body: str, spans: list[tuple[str, EntityType]]) -> tuple[list[Entity], list[str]]:
    """The entities after relinking, and the story's places."""
    kb = default_kb()
    entities = link_entities(mentions_of(body, spans), body, None, kb=kb)
    locations = resolve_locations(entities, body, None, gazetteer=Gazetteer(), kb=kb)
    entities = relink_institutions(entities, body, None, locations, kb=kb)
    return entities, find_places(entities, body, None, kb=kb, locations=locations)


# Invented: a budget vote in Nigeria's upper house.
NIGERIA = (
    "ABUJA - The Senate on Tuesday passed the budget after a debate that lasted into the "
    "night. Senators from Lagos and Kano said the budget would help farmers across Nigeria, "
    "and the Supreme Court is to hear a challenge to it next month."
)
# Invented: a vote in the US upper house.
UNITED_STATES = (
    "WASHINGTON - The Senate on Tuesday passed the spending bill after a long debate. "
    "Senators from Ohio and Texas said the bill would help farmers across the United States."
)


def test_the_senate_of_a_nigerian_story_is_nigeria_s() -> None:
    entities, places = linked(
        NIGERIA,
        [("ABUJA", LOC), ("Senate", ORG), ("Lagos", LOC), ("Kano", LOC), ("Nigeria", LOC),
         ("Supreme Court", ORG)],
    )  # fmt: skip
    ids = {e.id: e.name for e in entities}
    assert ids["mm:org:senate:ng"] == "Senate (Nigeria)"
    assert ids["mm:org:supreme-court:ng"] == "Supreme Court (Nigeria)"
    assert "mm:org:senate" not in ids
    assert places == ["NG"]


def test_the_senate_of_a_us_story_keeps_the_knowledge_base_entry() -> None:
    entities, places = linked(
        UNITED_STATES,
        [("WASHINGTON", LOC), ("Senate", ORG), ("Ohio", LOC), ("Texas", LOC),
         ("United States", LOC)],
    )  # fmt: skip
    assert "mm:org:senate" in {e.id for e in entities}
    assert places == ["US"]


def test_a_demonym_names_the_country() -> None:
    body = "The Kenyan Parliament met on Monday. Parliament will vote on the bill next week."
    entities, _ = linked(body, [("Kenyan Parliament", ORG), ("Parliament", ORG)])
    # both mentions: the demonym's country, and one entity
    assert [(e.id, len(e.mentions)) for e in entities] == [("mm:org:parliament:ke", 2)]


def test_without_a_country_nothing_changes() -> None:
    body = "The Supreme Court will hear the case next month, a lawyer said on Friday."
    entities, _ = linked(body, [("Supreme Court", ORG)])
    assert [e.id for e in entities] == ["local:org:supreme-court"]


@pytest.mark.parametrize(
    ("name", "generic"),
    [("Senate", "senate"), ("the Supreme Court", "supreme court"),
     ("Ministry of Health", "ministry of health"), ("Interior Ministry", "interior ministry"),
     ("Central Bank", "central bank"), ("Apple", None), ("Senate Bill 5", None)],
)  # fmt: skip
def test_generic_name(name: str, generic: str | None) -> None:
    assert generic_name(name) == generic
