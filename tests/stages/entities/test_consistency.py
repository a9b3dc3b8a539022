"""One name, one type across a document: type votes, surnames, and missed occurrences."""

from __future__ import annotations

from pipeline.models import EntityType
from pipeline.stages.entities.consistency import consistent
from pipeline.stages.entities.linking import RawMention

PER, ORG, LOC = EntityType.PER, EntityType.ORG, EntityType.LOC


def mention(text: str, body: str, kind: EntityType, nth: int = 0) -> RawMention:
    start = -1
    for _ in range(nth + 1):
        start = body.index(text, start + 1)
    return RawMention(start, start + len(text), text, kind)


def test_the_majority_type_wins() -> None:
    body = "Lumora grew. Shares of Lumora rose. Lumora hired. Analysts like Lumora."
    found = [
        mention("Lumora", body, ORG, 0),
        mention("Lumora", body, LOC, 1),
        mention("Lumora", body, ORG, 2),
        mention("Lumora", body, ORG, 3),
    ]
    assert {m.type for m in consistent(found, body)} == {ORG}


def test_a_surname_after_the_full_name_is_a_person() -> None:
    body = "Coach Ada Belichick spoke. Later, Belichick left."
    found = [mention("Ada Belichick", body, PER), mention("Belichick", body, LOC, 1)]
    result = consistent(found, body)
    assert [(m.text, m.type) for m in result] == [("Ada Belichick", PER), ("Belichick", PER)]


def test_a_missed_occurrence_is_added_with_exact_offsets() -> None:
    body = "The firm Nordhavn Securities grew. Rivals of Nordhavn Securities fell."
    found = [mention("Nordhavn Securities", body, ORG)]
    result = consistent(found, body)
    assert len(result) == 2
    second = result[1]
    assert body[second.start : second.end] == "Nordhavn Securities"
    assert second.type is ORG


def test_a_single_word_at_a_sentence_start_is_not_added() -> None:
    body = "We met Mark in Oslo. Mark my words, he said."
    found = [mention("Mark", body, PER)]
    assert len(consistent(found, body)) == 1


def test_an_occurrence_inside_another_entity_is_left_alone() -> None:
    body = "Talks in Washington. The Washington Post reported it."
    found = [mention("Washington", body, LOC), mention("The Washington Post", body, ORG)]
    assert len(consistent(found, body)) == 2


def test_a_determiner_alone_is_not_a_name() -> None:
    body = "The council met. It voted."
    found = [mention("The", body, ORG), mention("It", body, ORG)]
    assert consistent(found, body) == []
