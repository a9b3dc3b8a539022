"""The shipped gazetteer: name keys, lookups, countries, ids and the build's metadata."""

from __future__ import annotations

import pytest

from pipeline.resources.gazetteer import Gazetteer, distance_km, place_key


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("St. Louis", "st louis"),
        ("Saint-Louis", "st louis"),
        ("Fort Worth", "ft worth"),
        ("Ft. Worth", "ft worth"),
        ("São Paulo", "sao paulo"),
        ("the Hague", "hague"),
        ("Lagos's", "lagos"),
    ],
)
def test_place_key_ignores_spelling(name: str, key: str) -> None:
    assert place_key(name) == key


def test_a_name_gives_every_place_of_that_name_most_populous_first(gazetteer: Gazetteer) -> None:
    matches = gazetteer.lookup("Alexandria")
    places = [m.place for m in matches]
    populations = [p.population for p in places]
    assert populations == sorted(populations, reverse=True)
    assert {("EG", "Alexandria"), ("US", "Louisiana"), ("US", "Virginia")} <= {
        (p.country, p.admin1) for p in places if p.kind == "city" and p.name == "Alexandria"
    }


def test_cities_of_the_countries_the_shared_file_lacks_are_there(gazetteer: Gazetteer) -> None:
    # the US, Germany and the Philippines come from countrystatecity-countries
    found = {(m.place.country, m.place.kind) for m in gazetteer.lookup("Pineville")}
    assert ("US", "city") in found
    assert any(m.place.country == "DE" for m in gazetteer.lookup("Leipzig"))
    assert any(m.place.kind == "region" for m in gazetteer.lookup("Bulacan"))


def test_a_country_by_code_and_a_place_by_id(gazetteer: Gazetteer) -> None:
    nigeria = gazetteer.country("ng")
    assert nigeria is not None
    assert nigeria.name == "Nigeria"
    assert nigeria.kind == "country"
    assert gazetteer.get(nigeria.id) == nigeria
    assert gazetteer.country("XX") is None
    assert gazetteer.get("Q0") is None


def test_a_translation_is_a_name(gazetteer: Gazetteer) -> None:
    assert "Q1490" in {m.place.id for m in gazetteer.lookup("Tokio")}  # Tokyo in Spanish


def test_the_build_records_its_counts(gazetteer: Gazetteer) -> None:
    meta = gazetteer.meta()
    assert int(meta["countries"]) >= 240
    assert int(meta["cities"]) > 150_000
    assert "ODbL" in meta["sources"]


def test_distance_km() -> None:
    # Cairo to Alexandria (Egypt), about 180 km
    assert 170 < distance_km(30.04, 31.24, 31.20, 29.92) < 190
    assert distance_km(10.0, 20.0, 10.0, 20.0) == 0.0
