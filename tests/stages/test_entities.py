"""The entities stage: spaCy NER mapped to CoNLL types, grouped per name, with salience."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.models import EntityType
from pipeline.settings import Settings
from pipeline.stages.entities import (
    RawMention,
    group_entities,
    load_recogniser,
    name_key,
    recognise,
)


@pytest.fixture(scope="module")
def nlp() -> Any:
    return load_recogniser(Settings().spacy_model)


def test_only_the_ner_component_is_loaded(nlp: Any) -> None:
    assert nlp.pipe_names == ["ner"]


def test_recognise_maps_ontonotes_labels_to_conll_types(nlp: Any) -> None:
    body = (
        "Prime Minister Angela Merkel met officials from Siemens in Munich on Tuesday. "
        "German exporters welcomed the talks, which cost 3 million euros."
    )
    (mentions,) = recognise(nlp, [body], batch_size=4)
    found = {(m.text, m.type) for m in mentions}
    assert ("Angela Merkel", EntityType.PER) in found
    assert ("Siemens", EntityType.ORG) in found
    assert ("Munich", EntityType.LOC) in found
    assert ("German", EntityType.MISC) in found
    assert not any(m.text in {"Tuesday", "3 million euros"} for m in mentions)
    for mention in mentions:
        assert body[mention.start : mention.end] == mention.text


def test_recognise_returns_one_list_per_body_in_order(nlp: Any) -> None:
    results = recognise(nlp, ["Paris is big.", "", "Nothing here."], batch_size=2)
    assert len(results) == 3
    assert [m.text for m in results[0]] == ["Paris"]
    assert results[1] == []


def test_name_key_ignores_case_accents_articles_and_possessives() -> None:
    assert name_key("The White House") == name_key("white house")
    assert name_key("Macron's") == name_key("Macron")
    assert name_key("Zürich") == name_key("Zurich")
    assert name_key("...") == ""


def test_mentions_of_one_name_and_type_form_one_entity() -> None:
    body = "x" * 100
    mentions = [
        RawMention(0, 5, "Paris", EntityType.LOC),
        RawMention(50, 55, "PARIS", EntityType.LOC),
        RawMention(60, 65, "Paris", EntityType.PER),
        RawMention(70, 73, "...", EntityType.ORG),
    ]
    entities = group_entities(mentions, body)
    assert [(e.id, len(e.mentions)) for e in entities] == [
        ("local:loc:paris", 2),
        ("local:per:paris", 1),
    ]


def test_salience_favours_frequent_and_early_entities_and_sums_to_one() -> None:
    body = "y" * 1000
    mentions = [
        RawMention(10, 15, "Alpha", EntityType.ORG),
        RawMention(500, 505, "Alpha", EntityType.ORG),
        RawMention(600, 604, "Beta", EntityType.ORG),
        RawMention(700, 704, "Beta", EntityType.ORG),
        RawMention(800, 805, "Gamma", EntityType.ORG),
    ]
    entities = group_entities(mentions, body)
    assert [e.name for e in entities] == ["Alpha", "Beta", "Gamma"]
    assert entities[0].salience > entities[1].salience > entities[2].salience
    assert sum(e.salience for e in entities) == pytest.approx(1.0, abs=1e-3)


def test_display_name_is_the_longest_form_without_a_leading_article() -> None:
    mentions = [
        RawMention(0, 15, "The White House", EntityType.ORG),
        RawMention(20, 31, "White House", EntityType.ORG),
    ]
    (entity,) = group_entities(mentions, "z" * 40)
    assert entity.name == "White House"
