"""The entities of the demo's samples (``pipeline/data/examples/articles``), English, German,
Spanish and French: the named people, companies and places each has, with their types,
through the whole enricher (an entity the knowledge base knows is named as it names it)."""

from __future__ import annotations

import pytest

from pipeline import DATA_DIR
from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, EntityType
from pipeline.settings import Settings
from pipeline.sources import read_sources

PER, ORG, LOC = EntityType.PER, EntityType.ORG, EntityType.LOC
ARTICLES = DATA_DIR / "examples" / "articles"

EXPECTED: dict[str, set[tuple[str, EntityType]]] = {
    "01-port-calloway-mayor-election.md": {
        ("Rosa Delgado", PER),
        ("Harold Benning", PER),
        ("Glenn Okafor", PER),
        ("Priya Raman", PER),
        ("Port Calloway", LOC),
        ("Oregon", LOC),
        ("Northwest Coastal Housing Trust", ORG),
    },
    "02-riksbank-holds-rate.json": {
        ("Maja Lindqvist", PER),
        ("Erik Holm", PER),
        ("Nordhavn Securities", ORG),
        ("Riksbank", ORG),
        ("Swedish Trade Federation", ORG),
        ("Stockholm", LOC),
        ("Gothenburg", LOC),
    },
    "03-lumora-slate-launch.json": {
        ("Aino Virtanen", PER),
        ("Jonas Richter", PER),
        ("Tampere", LOC),
        ("Oulu", LOC),
    },
    "04-harbour-city-cup-and-ocean-buoys.jsonl": {
        ("Declan Murray", PER),
        ("Tadhg Corcoran", PER),
        ("Valley Rovers", ORG),
        ("Dublin", LOC),
        ("Cork", LOC),
    },
    "05-nairobi-drought-insurance-summit.html": {
        ("Grace Wanjiru", PER),
        ("Nairobi", LOC),
        ("African Development Bank", ORG),
    },
    "06-wto-ecommerce-talks.txt": {
        ("Helena Marquez", PER),
        ("World Trade Organization", ORG),
        ("Geneva", LOC),
        ("Cameroon", LOC),
    },
    "08-freiburg-radwege.json": {
        ("Katrin Albers", PER),
        ("Thomas Wenger", PER),
        ("Freiburg", LOC),
        ("Haslach", LOC),
        ("Einzelhandelsverband Südbaden", ORG),
        ("Allgemeine Deutsche Fahrrad-Club", ORG),
    },
    "09-valencia-desalinizadora.json": {
        ("Marta Soler", PER),
        ("Andrés Climent", PER),
        ("Ayuntamiento de Valencia", ORG),
        ("Confederación Hidrográfica del Júcar", ORG),
        ("European Union", ORG),  # "Unión Europea", named as the knowledge base names it
        ("Nazaret", LOC),
    },
    "10-lyon-tramway-nord.json": {
        ("Hélène Garnier", PER),
        ("Olivier Marchand", PER),
        ("Lyon", LOC),
        ("Rillieux-la-Pape", LOC),  # after "la commune de", which is not part of the name
        ("Auvergne-Rhône-Alpes", LOC),  # one word: a hyphen between letters does not split
    },
}
NOT_PEOPLE = {"Turnout", "Mediamon Wire"}  # a word, a news agency


@pytest.fixture(scope="module")
def found() -> dict[str, set[tuple[str, EntityType]]]:
    enricher = Enricher(Settings())
    out: dict[str, set[tuple[str, EntityType]]] = {}
    for name in EXPECTED:
        events = [
            e
            for e in enricher.process(list(read_sources([str(ARTICLES / name)])))
            if isinstance(e, EnrichedEvent)
        ]
        out[name] = {(m_entity.name, m_entity.type) for e in events for m_entity in e.entities}
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_sample_has_its_named_people_companies_and_places(
    name: str, found: dict[str, set[tuple[str, EntityType]]]
) -> None:
    assert EXPECTED[name] <= found[name], EXPECTED[name] - found[name]
    assert not {n for n, t in found[name] if t is PER} & NOT_PEOPLE
