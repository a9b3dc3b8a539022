"""The world gazetteer shipped with the package (``pipeline/data/gazetteer.sqlite``, built by
``scripts/build_gazetteer.py``): countries, first-level regions and cities with their ids
(Wikidata QIDs, else GeoNames ids), coordinates, population and names in several languages.

The file is an SQLite database opened read-only: nothing is read into memory at start-up, a
lookup reads the index pages it needs (shared between workers through the page cache) and the
answers of recent lookups are kept. Names are matched by :func:`place_key`, which ignores case,
accents, punctuation and the abbreviations "St." / "Saint", "Mt." / "Mount", "Ft." / "Fort".
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from pipeline import DATA_DIR
from pipeline.text.folding import fold

GAZETTEER_PATH = DATA_DIR / "gazetteer.sqlite"
EARTH_RADIUS_KM = 6371.0
CACHE_SIZE = 4096
"""Lookups whose answers are kept."""

_PUNCTUATION = re.compile(r"[.'\u2019()]")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015/]+")
_ABBREVIATIONS = {"saint": "st", "sainte": "ste", "mount": "mt", "fort": "ft"}


@lru_cache(maxsize=65_536)
def place_key(name: str) -> str:
    """The lookup key of a place name: "St. Louis", "Saint-Louis" and "saint louis" share
    "st louis"."""
    words = _SEPARATORS.split(_PUNCTUATION.sub("", fold(name)))
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words if w)


@dataclass(frozen=True, slots=True)
class Place:
    """A place of the gazetteer."""

    id: str
    """Wikidata QID ("Q84"), else "geonames:<id>", else "csc:<id>" (the source database's)."""
    name: str
    kind: str
    """"country", "region" (first-level) or "city"."""
    country: str
    """ISO 3166-1 alpha-2 code."""
    admin1: str | None
    """The first-level region's name (None for countries and regions)."""
    lat: float
    lon: float
    population: int

    def distance_km(self, other: Place) -> float:
        """Great-circle distance to ``other``."""
        return distance_km(self.lat, self.lon, other.lat, other.lon)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two points, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class Match(NamedTuple):
    """A place a name may stand for."""

    place: Place
    alternate: bool
    """Whether the name is only one of GeoNames' alternate names of the place (a historical
    name, a variant spelling), weaker evidence than its name or a translation."""


_COLUMNS = "id, name, kind, country, admin1, lat, lon, population"


class Gazetteer:
    """Read-only lookups over the gazetteer file."""

    def __init__(self, path: Path = GAZETTEER_PATH) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._cached = lru_cache(maxsize=CACHE_SIZE)(self._query)
        self._countries: dict[str, Place] | None = None

    @property
    def connection(self) -> sqlite3.Connection:
        """The database connection, opened on first use."""
        if self._connection is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
            self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return self._connection

    def load(self) -> None:
        """Open the file now and check it (a missing or broken file fails here)."""
        with self._lock:
            self.connection.execute("SELECT count(*) FROM meta").fetchone()

    def lookup(self, name: str) -> tuple[Match, ...]:
        """The places one of whose names has the key of ``name``, most populous first."""
        key = place_key(name)
        return self._cached(key) if key else ()

    def _query(self, key: str) -> tuple[Match, ...]:
        with self._lock:
            rows = self.connection.execute(
                f"SELECT {_COLUMNS}, alternate FROM names JOIN places ON places.n = names.place"
                " WHERE names.key = ? ORDER BY population DESC",
                (key,),
            ).fetchall()
        return tuple(Match(Place(*row[:-1]), bool(row[-1])) for row in rows)

    def get(self, place_id: str) -> Place | None:
        """The place of an id."""
        with self._lock:
            row = self.connection.execute(
                f"SELECT {_COLUMNS} FROM places WHERE id = ?", (place_id,)
            ).fetchone()
        return Place(*row) if row is not None else None

    def country(self, code: str) -> Place | None:
        """The country of an ISO 3166-1 alpha-2 code."""
        if self._countries is None:
            with self._lock:
                rows = self.connection.execute(
                    f"SELECT {_COLUMNS} FROM places WHERE kind = 'country'"
                ).fetchall()
            self._countries = {row[3]: Place(*row) for row in rows}
        return self._countries.get(code.upper())

    def meta(self) -> dict[str, str]:
        """The build's metadata: sources, counts, version."""
        with self._lock:
            return dict(self.connection.execute("SELECT key, value FROM meta").fetchall())

    def close(self) -> None:
        """Close the connection (it opens again on the next lookup)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
