"""Place resolution: the same name resolved by the story's context (qualifiers, other places,
the story's countries, the source's domain), and the countries that resolved cities give."""

from __future__ import annotations

import pytest

from pipeline.models import EntityType, Location
from pipeline.resources.gazetteer import Gazetteer
from pipeline.resources.kb import default_kb
from pipeline.stages.entities.linking import link_entities
from pipeline.stages.entities.places import find_places
from pipeline.stages.entities.toponyms import resolve_locations, source_country
from tests.stages.entities.test_places import mentions_of

PER, ORG, LOC, MISC = EntityType.PER, EntityType.ORG, EntityType.LOC, EntityType.MISC


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


def resolve(
    gazetteer: Gazetteer,
    body: str,
    spans: list[tuple[str, EntityType]],
    title: str | None = None,
    domain: str | None = None,
) -> tuple[dict[str, Location], list[str]]:
    """The locations by name, and the places."""
    kb = default_kb()
    entities = link_entities(mentions_of(body, spans), body, title, kb=kb)
    locations = resolve_locations(entities, body, title, gazetteer=gazetteer, kb=kb, domain=domain)
    places = find_places(entities, body, title, kb=kb, locations=locations)
    return {loc.name: loc for loc in locations}, places


# Invented: a house fire in a Louisiana town, its neighbour named once.
LOUISIANA = (
    "ALEXANDRIA, La. - A woman was charged with arson on Monday after a fire destroyed a "
    "house in Alexandria, the sheriff's office said. Firefighters from Pineville helped to "
    "put the fire out, which started in the kitchen late on Sunday."
)
# Invented: a storm closes the Egyptian port.
EGYPT = (
    "The port of Alexandria reopened on Sunday after a storm had closed it for three days. "
    "Ships that had waited off the coast began to enter the harbour, and officials in Cairo "
    "said trade in Egypt would return to normal within a week."
)


def test_alexandria_louisiana_by_its_qualifier_and_neighbour(gazetteer: Gazetteer) -> None:
    locations, places = resolve(gazetteer, LOUISIANA, [("ALEXANDRIA", LOC),
                                ("Alexandria", LOC), ("Pineville", LOC)])  # fmt: skip
    town = locations["Alexandria"]
    assert (town.kind, town.country, town.admin1) == ("city", "US", "Louisiana")
    assert [(m.start, m.end) for m in town.mentions] == [
        (0, 10),
        (LOUISIANA.index("Alexandria,"), LOUISIANA.index("Alexandria,") + 10),
    ]
    assert locations["Pineville"].admin1 == "Louisiana"
    assert places == ["US"]  # the knowledge base's Alexandria is in Egypt: not a place here


def test_alexandria_egypt_by_the_story_country(gazetteer: Gazetteer) -> None:
    locations, places = resolve(
        gazetteer, EGYPT, [("Alexandria", LOC), ("Cairo", LOC), ("Egypt", LOC)]
    )
    assert (locations["Alexandria"].country, locations["Alexandria"].id) == ("EG", "Q87")
    assert locations["Egypt"].kind == "country"
    assert places == ["EG"]


def test_a_story_naming_only_cities_gets_their_country(gazetteer: Gazetteer) -> None:
    body = (
        "Heavy rain flooded streets in Kaduna and Zaria on Friday, and farmers near Kano said "
        "the harvest would be late. Roads between Kaduna and Zaria stayed closed on Saturday."
    )
    locations, places = resolve(gazetteer, body, [("Kaduna", LOC), ("Zaria", LOC), ("Kano", LOC)])
    assert {loc.country for loc in locations.values()} == {"NG"}
    assert places == ["NG"]


def test_a_qualifier_names_the_region(gazetteer: Gazetteer) -> None:
    body = "A tornado struck Paris, Texas, on Tuesday. Paris has 25,000 inhabitants."
    locations, _ = resolve(gazetteer, body, [("Paris", LOC)])
    assert (locations["Paris"].country, locations["Paris"].admin1) == ("US", "Texas")


def test_the_population_prior_without_context(gazetteer: Gazetteer) -> None:
    body = "The exhibition opens in Paris next month and travels on afterwards."
    locations, _ = resolve(gazetteer, body, [("Paris", LOC)])
    assert locations["Paris"].country == "FR"


def test_the_source_domain_is_a_prior(gazetteer: Gazetteer) -> None:
    body = "The exhibition opens in Alexandria next month and travels on afterwards."
    egypt, _ = resolve(gazetteer, body, [("Alexandria", LOC)])
    assert egypt["Alexandria"].country == "EG"
    local, _ = resolve(gazetteer, body, [("Alexandria", LOC)], domain="news.example.us")
    assert local["Alexandria"].country == "US"


def test_a_place_the_recogniser_typed_otherwise_needs_a_confirming_context(
    gazetteer: Gazetteer,
) -> None:
    near = (
        "ALEXANDRIA, La. - Firefighters from Alexandria and Pineville were called to the fire "
        "on Monday night."
    )
    locations, _ = resolve(gazetteer, near, [("ALEXANDRIA", LOC), ("Alexandria", LOC),
                                             ("Pineville", PER)])  # fmt: skip
    assert locations["Pineville"].admin1 == "Louisiana"
    alone = "Pineville said on Monday that the fire had been put out before midnight."
    assert resolve(gazetteer, alone, [("Pineville", PER)])[0] == {}


def test_demonyms_name_their_country(gazetteer: Gazetteer) -> None:
    body = "Georgian troops left the border on Monday, Georgian officials said in Tbilisi."
    locations, _ = resolve(gazetteer, body, [("Georgian", MISC), ("Tbilisi", LOC)])
    assert locations["Georgia"].kind == "country"
    assert locations["Georgia"].country == "GE"
    assert len(locations["Georgia"].mentions) == 2
    assert locations["Tbilisi"].country == "GE"


@pytest.mark.parametrize(
    ("domain", "country"),
    [("guardian.ng", "NG"), ("bbc.co.uk", "GB"), ("example.com", None), ("news.co", None),
     (None, None), ("localhost", None)],
)  # fmt: skip
def test_source_country(domain: str | None, country: str | None) -> None:
    assert source_country(domain) == country
