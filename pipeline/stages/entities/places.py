"""The countries a story is about (``places``), as ISO 3166-1 alpha-2 codes.

Evidence, per country: its linked entities (the country itself, its demonyms, its capital,
cities and regions, seats of its government), weighted by how often and how early they are
mentioned; the dateline ("MOSCOW, Oct 15 -") and the title count extra. A country qualifies when
its evidence reaches both an absolute floor and a share of the strongest country's, so a
country named once in passing is not a place of the story.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from pipeline.models import Entity, Location
from pipeline.resources.kb import PLACE_KINDS, KBEntry, KnowledgeBase, default_kb
from pipeline.text.folding import fold

log = logging.getLogger(__name__)

KIND_WEIGHT: dict[str, float] = {
    "country": 1.0,
    "former-country": 1.0,
    "capital": 1.0,
    "city": 1.0,
    "region": 1.0,
    "government": 0.75,
    "legislature": 0.5,
    "central-bank": 0.5,
}
"""How much one mention of an entry of each kind says about its country; others say nothing
(a news agency's home country, a person's nationality)."""
PERSON_WEIGHT = 0.0
"""Weight of a mention of a person with a country."""
LEAD_SHARE = 0.2
LEAD_MIN_CHARS = 400
LEAD_WEIGHT = 1.5
DATELINE_WEIGHT = 3.0
TITLE_WEIGHT = 3.0
MIN_SCORE = 2.0
"""A country needs at least this much evidence."""
MIN_SHARE = 0.3
"""... and at least this share of the best country's evidence."""
LOCATION_WEIGHT = 0.5
"""Weight of a mention of a resolved city or region the knowledge base does not know."""

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}\b"
_DATELINE_DATE = re.compile(r",\s*" + _MONTH, re.IGNORECASE)
_DATELINE_DASH = re.compile(r"\s*(?:\([^()\n]{1,40}\)\s*)?(?:-{1,2}|\u2013|\u2014)\s")
_WORD = re.compile(r"[\w][\w.'\u2019&-]*")


def find_places(
    entities: Sequence[Entity],
    body: str,
    title: str | None = None,
    *,
    kb: KnowledgeBase | None = None,
    locations: Sequence[Location] = (),
) -> list[str]:
    """ISO codes of the countries ``entities`` (linked), ``locations`` (resolved) and the
    dateline say the story is about, strongest first."""
    kb = kb or default_kb()
    scores = country_scores(entities, body, title, kb=kb, locations=locations)
    if not scores:
        return []
    best = max(scores.values())
    chosen = [
        code for code, score in scores.items() if score >= MIN_SCORE and score >= MIN_SHARE * best
    ]
    return sorted(chosen, key=lambda code: -scores[code])


def story_places(
    entities: Sequence[Entity],
    body: str,
    title: str | None = None,
    *,
    kb: KnowledgeBase | None = None,
    locations: Sequence[Location] = (),
) -> list[str]:
    """:func:`find_places` for the topics stage: a failure is logged and gives no places
    rather than losing the topics."""
    try:
        return find_places(entities, body, title, kb=kb, locations=locations)
    except Exception:
        log.exception("places failed")
        return []


def country_scores(
    entities: Sequence[Entity],
    body: str,
    title: str | None = None,
    *,
    kb: KnowledgeBase | None = None,
    locations: Sequence[Location] = (),
) -> dict[str, float]:
    """Evidence per country code."""
    kb = kb or default_kb()
    lead_end = max(int(len(body) * LEAD_SHARE), min(len(body), LEAD_MIN_CHARS))
    scores: dict[str, float] = {}
    title_grams = _grams(title) if title else set()
    resolved = {m.start: loc.country for loc in locations for m in loc.mentions}
    counted: set[int] = set()
    for entity in entities:
        entry = kb.get(entity.id)
        if entry is None or entry.country is None:
            continue
        weight = _weight(entry)
        if weight <= 0:
            continue
        counted.update(m.start for m in entity.mentions)
        evidence = sum(LEAD_WEIGHT if m.start < lead_end else 1.0 for m in entity.mentions)
        if title_grams and title_grams & {fold(n) for n in kb.names_of(entry.id)}:
            evidence += TITLE_WEIGHT
        # a city the resolver placed elsewhere ("Alexandria, La.") counts for that country
        country = resolved.get(entity.mentions[0].start, entry.country)
        scores[country] = scores.get(country, 0.0) + weight * evidence
    for location in locations:
        if location.kind == "country":
            continue  # the knowledge base knows every country
        evidence = sum(
            LEAD_WEIGHT if m.start < lead_end else 1.0
            for m in location.mentions
            if m.start not in counted
        )
        if evidence:
            scores[location.country] = (
                scores.get(location.country, 0.0) + LOCATION_WEIGHT * evidence
            )
    dateline = dateline_country(body, kb)
    if dateline is not None:
        scores[dateline] = scores.get(dateline, 0.0) + DATELINE_WEIGHT
    return scores


def _weight(entry: KBEntry) -> float:
    if entry.kind == "person":
        return PERSON_WEIGHT
    return KIND_WEIGHT.get(entry.kind, 0.0)


def dateline_country(body: str, kb: KnowledgeBase | None = None) -> str | None:
    """The country of a wire dateline at the start of the body: "GENEVA, March 4 (Wire) -",
    "SAN MATEO, Calif., March 2 -", "MOSCOW (Reuters) -"."""
    kb = kb or default_kb()
    head = body.lstrip()[:100].split("\n", 1)[0]
    date = _DATELINE_DATE.search(head)
    if date is not None:
        head = head[: date.start()]
    else:
        dash = _DATELINE_DASH.search(head)
        if dash is None:
            return None
        head = head[: dash.start()]
        if not head.replace(",", "").replace(" ", "").replace(".", "").isupper():
            return None  # without a date, only an all-capital place makes a dateline
    parts = [part.strip() for part in head.split(",")]
    if not parts or len(parts) > 3 or any(len(part) > 40 for part in parts):
        return None
    for part in parts:
        # "WALTHAM, Mass, March 26": state abbreviations come with or without their period
        for name in (part, f"{part}.") if part and not part.endswith(".") else (part,):
            for entry in kb.lookup(name):
                if entry.kind in PLACE_KINDS and entry.country:
                    return entry.country
    return None


def _grams(text: str) -> set[str]:
    words = [w for word in _WORD.findall(text) for w in word.split("-") if w]
    return {
        fold(" ".join(words[i : i + n])) for n in range(1, 5) for i in range(len(words) - n + 1)
    }
