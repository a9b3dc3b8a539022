"""``places``: the countries a story is about, from linked entities, the dateline and the title."""

from __future__ import annotations

import pytest

from pipeline.models import EntityType
from pipeline.stages.entities.linking import RawMention, link_entities
from pipeline.stages.entities.places import dateline_country, find_places, story_places

PER, ORG, LOC, MISC = EntityType.PER, EntityType.ORG, EntityType.LOC, EntityType.MISC


def mentions_of(body: str, spans: list[tuple[str, EntityType]]) -> list[RawMention]:
    """Every occurrence of each ``(text, type)`` as a mention, whole words only."""
    found = []
    for text, etype in spans:
        start = body.find(text)
        while start >= 0:
            end = start + len(text)
            before = body[start - 1] if start else " "
            after = body[end] if end < len(body) else " "
            if not before.isalnum() and not after.isalnum():
                found.append(RawMention(start, end, text, etype))
            start = body.find(text, end)
    return found


# Invented, in the shape of the reference story: Russia and the United States argue over Syria;
# Kazakhstan is only where a press conference happened.
STORY = (
    "President Dmitri Volkov of the fictional Russian delegation said U.S. officials had "
    "rejected a Russian proposal to send envoys to Washington to discuss Syria.\n\n"
    "Speaking at a press conference in the Kazakh capital Astana, Volkov said Russia was "
    "ready to talk. The White House said Russia must first change course in Syria.\n\n"
    "Russian jets have struck targets in Syria for weeks, while U.S. officials say the strikes "
    "hit the Syrian opposition. Russia and the U.S. discussed air safety over Syria on "
    "Wednesday, Russian officials said. Russia says its aims are limited."
)
STORY_SPANS = [
    ("Dmitri Volkov", PER), ("Volkov", PER), ("Russian", MISC), ("U.S.", LOC),
    ("Washington", LOC), ("Syria", LOC), ("Kazakh", MISC), ("Astana", LOC), ("Russia", LOC),
    ("White House", ORG), ("Syrian", MISC),
]  # fmt: skip


def test_the_story_is_about_russia_the_us_and_syria_not_kazakhstan() -> None:
    entities = link_entities(mentions_of(STORY, STORY_SPANS), STORY)
    places = find_places(entities, STORY, "Russia slams U.S. refusal to meet over Syria")
    assert set(places) == {"RU", "US", "SY"}
    assert places[0] == "RU"


def test_a_country_named_in_passing_is_not_a_place() -> None:
    body = (
        "The Riverside council in Leeds approved its budget after a long debate. Councillors "
        "in Leeds said the plan protects libraries, and the Leeds mayor welcomed it. Leeds "
        "residents will see bus routes kept. One councillor had studied in France."
    )
    entities = link_entities(mentions_of(body, [("Leeds", LOC), ("France", LOC)]), body)
    assert find_places(entities, body, "Leeds approves budget") == ["GB"]


def test_capitals_and_seats_of_government_count_for_their_country() -> None:
    body = (
        "The Kremlin said on Monday that talks in Moscow would go on. Moscow officials and the "
        "Kremlin press office gave no date."
    )
    entities = link_entities(mentions_of(body, [("Kremlin", ORG), ("Moscow", LOC)]), body)
    assert find_places(entities, body) == ["RU"]


def test_a_dateline_names_a_place() -> None:
    body = "GENEVA, March 4 (Mediamon Wire) - Trade ministers met on Tuesday to discuss tariffs."
    assert dateline_country(body) == "CH"
    assert find_places([], body) == ["CH"]
    assert dateline_country("SAN MATEO, Calif., March 2 - Shares rose.") == "US"
    assert dateline_country("MOSCOW (Reuters) - The ministry said.") == "RU"
    assert dateline_country("Putin said, on Monday, that - he") is None
    assert dateline_country("") is None


def test_news_agencies_and_people_say_nothing_about_places() -> None:
    body = "TASS reported that Vladimir Putin spoke to TASS again, TASS said."
    entities = link_entities(mentions_of(body, [("TASS", ORG), ("Vladimir Putin", PER)]), body)
    assert find_places(entities, body) == []


def test_no_entities_no_places() -> None:
    assert find_places([], "Nothing to see here.") == []


def test_story_places_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> list[str]:
        raise RuntimeError("bug")

    monkeypatch.setattr("pipeline.stages.entities.places.find_places", broken)
    assert story_places([], "GENEVA, March 4 - Talks.") == []
