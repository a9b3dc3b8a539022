"""Place resolution: each place a story names becomes a place of the gazetteer (a city, a
first-level region or a country), chosen with the story's context rather than by its name alone.

The toponyms are the entities with a LOC mention (and the knowledge base's places). Each one's
candidates are the gazetteer's places of its name, scored by

- population, the prior (log scale): "Paris" alone is the French capital;
- the story's countries: the evidence of :func:`~pipeline.stages.entities.places.country_scores`
  (linked entities, dateline, title), the source's country (its domain's country-code TLD),
  and the countries of the story's other toponyms;
- a qualifier after the mention ("Alexandria, La.", "Paris, Texas"): a region or country that
  the place must lie in;
- the other toponyms' choices: a place in a region the story names, or near a place it names;
- the knowledge base's country for a place it knows, and a penalty for a match by one of
  GeoNames' alternate names only.

Candidates are scored twice: first with the story's evidence alone, then with the first round's
choices of the other toponyms.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.models import Entity, EntityType, Location, Mention, Span
from pipeline.resources.gazetteer import Gazetteer, Match, Place, place_key
from pipeline.resources.kb import PLACE_KINDS, KBEntry, KnowledgeBase
from pipeline.stages.entities.places import country_scores

POPULATION_WEIGHT = 0.4
"""Score per factor of ten of population."""
COUNTRY_WEIGHT = 2.0
"""Score of a candidate in the story's strongest country (others: by their share of it)."""
QUALIFIER_WEIGHT = 4.0
KB_WEIGHT = 1.0
"""A candidate in the country the knowledge base gives the name."""
REGION_WEIGHT = 1.0
"""A candidate in a region the story names (or the region of a city it names)."""
NEAR_WEIGHT = 1.0
NEAR_KM = 200.0
ALTERNATE_PENALTY = 1.5
KIND_BONUS = {"country": 0.6, "region": 0.3, "city": 0.0}
"""A country's or region's name is more often meant than a town of the same name."""
TWIN_PENALTY = 1.0
"""A region whose city of the same name is a candidate too ("Cairo", "Lagos") loses this
unless a word such as "state" or "province" follows the name (the city loses it then)."""
SOURCE_WEIGHT = 2.0
"""Evidence the source's country-code domain gives its country."""
MAX_CANDIDATES = 40

_QUALIFIER = re.compile(r",\s*([A-Z][\w.'\u2019-]*(?:\s+[A-Z][\w.'\u2019-]*){0,2})")
_POSSESSIVE = re.compile(r"['\u2019]s?$")
_REGION_WORD = re.compile(
    r"\s+(?:states?|provinces?|regions?|governorates?|prefectures?|departments?|oblasts?"
    r"|counties|county|districts?)\b",
    re.IGNORECASE,
)
_PARENTHESIS = re.compile(r"\s*\([^)]*\)")
_GENERIC_TLDS = frozenset({"co", "tv", "io", "me", "ai", "fm", "cc", "ws", "to", "gg", "ly",
                           "la", "vc", "am", "sh", "ag", "gl", "im", "nu"})  # fmt: skip
"""Country-code domains mostly used as generic ones (".tv", ".io", ".me")."""


@dataclass(slots=True)
class _Toponym:
    entity: str
    """The id of the entity it names."""
    mentions: list[Mention]
    candidates: list[Match]
    kb_country: str | None
    kb_kind: str | None = None
    qualifiers: list[Place] = field(default_factory=list)
    region_word: bool = False
    """A word such as "state" follows a mention: "Kano state"."""
    tentative: bool = False
    """Not a LOC mention: kept only when the context confirms it."""
    choice: Place | None = None

    @property
    def weight(self) -> int:
        return len(self.mentions)


def resolve_locations(
    entities: Sequence[Entity],
    body: str,
    title: str | None,
    *,
    gazetteer: Gazetteer,
    kb: KnowledgeBase,
    domain: str | None = None,
) -> list[Location]:
    """The places ``entities`` (linked) name, resolved, in order of first mention."""
    toponyms = _one_sense([t for e in entities for t in _toponyms(e, body, gazetteer, kb)])
    if not toponyms:
        return []
    source = source_country(domain)
    evidence: dict[str, dict[str, float]] = {}  # by entity: the evidence of the others
    for entity_id in {t.entity for t in toponyms}:
        rest = [e for e in entities if e.id != entity_id]
        evidence[entity_id] = scores = country_scores(rest, body, title, kb=kb)
        if source is not None:
            scores[source] = scores.get(source, 0.0) + SOURCE_WEIGHT
    for _ in range(2):
        choices = [(t, t.choice) for t in toponyms]
        for toponym in toponyms:
            chosen = [c for t, c in choices if t is not toponym and c is not None]
            toponym.choice = _choose(toponym, evidence[toponym.entity], chosen)
    confirmed = [t for t in toponyms if not t.tentative]
    for toponym in toponyms:
        if toponym.tentative and not _confirmed(toponym, confirmed):
            toponym.choice = None
    return _locations(toponyms)


def _confirmed(toponym: _Toponym, confirmed: Sequence[_Toponym]) -> bool:
    """Whether a tentative toponym's choice lies in a qualifier, or near a city or in a region
    the story's other toponyms name."""
    place = toponym.choice
    if place is None or place.kind == "country":
        return False
    if toponym.qualifiers:
        return _within(place, toponym.qualifiers)
    for other in (t.choice for t in confirmed):
        if other is None or other.kind == "country":
            continue
        if other.kind == "city" and place.distance_km(other) <= NEAR_KM:
            return True
        if other.kind == "region" and (other.country, other.name) == (place.country, place.admin1):
            return True
    return False


def _one_sense(toponyms: Sequence[_Toponym]) -> list[_Toponym]:
    """One place per name and story: the toponyms of one name ("Paris" the city and "Paris"
    linked to France's government) become one, with all their mentions and qualifiers."""
    by_key: dict[str, _Toponym] = {}
    for toponym in toponyms:
        key = place_key(_POSSESSIVE.sub("", toponym.mentions[0].text.strip()))
        if len(toponym.candidates) == 1 and toponym.candidates[0].place.kind == "country":
            key = f"country:{toponym.candidates[0].place.country}"
        known = by_key.get(key)
        if known is None:
            by_key[key] = toponym
            continue
        known.mentions = sorted([*known.mentions, *toponym.mentions], key=lambda m: m.start)
        known.qualifiers.extend(toponym.qualifiers)
        ids = {m.place.id for m in known.candidates}
        known.candidates.extend(m for m in toponym.candidates if m.place.id not in ids)
        known.kb_country = known.kb_country or toponym.kb_country
        known.kb_kind = known.kb_kind or toponym.kb_kind
        known.region_word = known.region_word or toponym.region_word
        known.tentative = known.tentative and toponym.tentative
    return list(by_key.values())


def source_country(domain: str | None) -> str | None:
    """The country of a country-code top-level domain ("guardian.ng" is NG, ".uk" GB)."""
    if not domain or "." not in domain:
        return None
    tld = domain.rsplit(".", 1)[1].lower()
    if len(tld) != 2 or tld in _GENERIC_TLDS:
        return None
    return "GB" if tld == "uk" else tld.upper()


def _toponyms(entity: Entity, body: str, gazetteer: Gazetteer, kb: KnowledgeBase) -> list[_Toponym]:
    """The toponyms of an entity, one per name it is mentioned by: its LOC mentions; a
    demonym of a country ("Russian"); a name the recogniser typed otherwise ("Gainesville" as
    a person), which stays only when the context confirms it (see :func:`_confirmed`)."""
    entry = kb.get(entity.id)
    if entry is not None and entry.kind not in PLACE_KINDS:
        return []
    groups: dict[str, list[Mention]] = {}
    for mention in entity.mentions:
        groups.setdefault(place_key(_POSSESSIVE.sub("", mention.text.strip())), []).append(mention)
    found = []
    for mentions in groups.values():
        text = _POSSESSIVE.sub("", mentions[0].text.strip())
        own = entry if entry is not None and _names(entry, text, kb) else None
        located = any(m.type == EntityType.LOC for m in mentions)
        if own is not None and own.kind in ("country", "former-country") and own.country:
            if located or kb.demonym(text) is own:
                country = gazetteer.country(own.country)
                if country is not None:
                    found.append(_Toponym(entity.id, mentions, [Match(country, False)], None))
            continue
        toponym = _toponym(entity.id, mentions, text, own, body, gazetteer, kb)
        if toponym is not None:
            toponym.tentative = not located and own is None
            found.append(toponym)
    return found


def _names(entry: KBEntry, text: str, kb: KnowledgeBase) -> bool:
    key = place_key(text)
    return any(place_key(n) == key for n in entry.names) or kb.demonym(text) is entry


def _toponym(
    entity: str,
    mentions: list[Mention],
    text: str,
    entry: KBEntry | None,
    body: str,
    gazetteer: Gazetteer,
    kb: KnowledgeBase,
) -> _Toponym | None:
    names = dict.fromkeys([text])
    if entry is not None:
        names.update(dict.fromkeys(_PARENTHESIS.sub("", n) for n in entry.names))
    candidates: dict[str, Match] = {}
    for name in names:
        for match in gazetteer.lookup(name)[:MAX_CANDIDATES]:
            known = candidates.get(match.place.id)
            if known is None or (known.alternate and not match.alternate):
                candidates[match.place.id] = match
    if not candidates:
        return None
    return _Toponym(
        entity,
        mentions,
        list(candidates.values()),
        entry.country if entry else None,
        entry.kind if entry else None,
        _qualifiers(mentions, body, gazetteer, kb),
        any(_REGION_WORD.match(body, m.end) for m in mentions),
    )


def _qualifiers(
    mentions: Sequence[Mention], body: str, gazetteer: Gazetteer, kb: KnowledgeBase
) -> list[Place]:
    """The regions and countries named right after a mention: "Alexandria, La."."""
    found: list[Place] = []
    for mention in mentions:
        match = _QUALIFIER.match(body, mention.end)
        if match is None:
            continue
        text = _POSSESSIVE.sub("", match.group(1)).rstrip(",")
        names = [text, text.rstrip(".")]
        for entry in kb.lookup(text):
            if entry.kind in PLACE_KINDS:
                names.extend(_PARENTHESIS.sub("", n) for n in entry.names)
        for name in names:
            places = [m.place for m in gazetteer.lookup(name) if not m.alternate]
            places = [p for p in places if p.kind in ("region", "country")]
            if places:
                found.append(places[0])
                break
    return found


def _choose(toponym: _Toponym, evidence: dict[str, float], others: Sequence[Place]) -> Place | None:
    counts = dict(evidence)
    for place in others:
        counts[place.country] = counts.get(place.country, 0.0) + 1.0
    best = max(counts.values(), default=0.0)
    regions = {(p.country, p.admin1 or p.name) for p in others if p.kind != "country"}
    qualified = [m for m in toponym.candidates if _within(m.place, toponym.qualifiers)]
    cities = {(m.place.country, place_key(m.place.name)) for m in toponym.candidates
              if m.place.kind == "city"}  # fmt: skip
    scored = []
    for match in qualified or toponym.candidates:
        place = match.place
        score = POPULATION_WEIGHT * math.log10(place.population + 1)
        score += KIND_BONUS.get(place.kind, 0.0)
        twin = place.kind == "region" and (place.country, place_key(place.name)) in cities
        if twin != toponym.region_word and (twin or place.kind == "city"):
            score -= TWIN_PENALTY
        if toponym.kb_kind in ("city", "capital") and place.kind != "city":
            score -= TWIN_PENALTY
        if best > 0:
            score += COUNTRY_WEIGHT * counts.get(place.country, 0.0) / best
        if qualified:
            score += QUALIFIER_WEIGHT
        if toponym.kb_country == place.country:
            score += KB_WEIGHT
        if match.alternate:
            score -= ALTERNATE_PENALTY
        region = place.admin1 if place.kind == "city" else place.name
        if place.kind != "country" and (place.country, region) in regions:
            score += REGION_WEIGHT
        if place.kind == "city" and any(
            o.kind == "city" and 0 < place.distance_km(o) <= NEAR_KM for o in others
        ):
            score += NEAR_WEIGHT
        scored.append((score, place.population, place))
    return max(scored, key=lambda item: item[:2])[2] if scored else None


def _within(place: Place, qualifiers: Sequence[Place]) -> bool:
    for qualifier in qualifiers:
        if qualifier.kind == "country" and place.country == qualifier.country:
            return True
        if (
            qualifier.kind == "region"
            and place.country == qualifier.country
            and (place.admin1 == qualifier.name or place.id == qualifier.id)
        ):
            return True
    return False


def _locations(toponyms: Sequence[_Toponym]) -> list[Location]:
    by_id: dict[str, Location] = {}
    for toponym in toponyms:
        place = toponym.choice
        if place is None:
            continue
        spans = [Span(start=m.start, end=m.end) for m in toponym.mentions]
        known = by_id.get(place.id)
        if known is not None:
            known.mentions = sorted([*known.mentions, *spans], key=lambda s: s.start)
            continue
        by_id[place.id] = Location(
            id=place.id,
            name=place.name,
            kind=place.kind,
            country=place.country,
            admin1=place.admin1 if place.kind == "city" else None,
            lat=place.lat,
            lon=place.lon,
            mentions=spans,
        )
    return sorted(by_id.values(), key=lambda loc: loc.mentions[0].start)
