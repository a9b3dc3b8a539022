"""The IPTC stage: the best top-level code of stories of every kind, thresholds, second-level
codes only under their parent, lexicon blocking, evidence, and bad data files refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.models import EntityType, IptcCodeTable, Topic
from pipeline.stages.entities.linking import link_entities
from pipeline.stages.topics.iptc import (
    MODEL_PATH,
    IptcClassifier,
    LinearModel,
    load_classifier,
    load_topics_file,
    tokens,
)
from tests.conftest import FIXTURES
from tests.stages.entities.test_places import mentions_of

STORIES = FIXTURES / "topics"
# Articles written for these tests, one per top-level code; the file name says which.
EXPECTED = {
    "arts": "medtop:01000000",
    "crime": "medtop:02000000",
    "disaster": "medtop:03000000",
    "economy": "medtop:04000000",
    "education": "medtop:05000000",
    "environment": "medtop:06000000",
    "health": "medtop:07000000",
    "human-interest": "medtop:08000000",
    "labour": "medtop:09000000",
    "lifestyle": "medtop:10000000",
    "politics": "medtop:11000000",
    "religion": "medtop:12000000",
    "technology": "medtop:13000000",
    "society": "medtop:14000000",
    "sport": "medtop:15000000",
    "conflict": "medtop:16000000",
    "weather": "medtop:17000000",
}


def story(name: str) -> tuple[str, str]:
    title, _, body = (STORIES / f"{name}.txt").read_text(encoding="utf-8").partition("\n")
    return title.strip(), body.strip()


@pytest.fixture(scope="module")
def classifier() -> IptcClassifier:
    return load_classifier()


def top_level(topics: list[Topic]) -> list[Topic]:
    return [t for t in topics if t.parent is None]


def test_the_code_table_has_the_17_top_level_codes(classifier: IptcClassifier) -> None:
    assert classifier.top_level == tuple(f"medtop:{n:02d}000000" for n in range(1, 18))
    assert classifier.label("medtop:16000000") == "conflict, war and peace"


def test_tokens_keep_acronyms_and_drop_possessives() -> None:
    words = [w for w, _, _ in tokens("The U.S. and Russia's air-strikes, Putin\u2019s G8")]
    assert words == ["the", "u.s", "and", "russia", "air", "strikes", "putin", "g8"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_best_top_level_code_of_a_story(classifier: IptcClassifier, name: str) -> None:
    title, body = story(name)
    topics = classifier.classify(title, body)
    best = max(top_level(topics), key=lambda t: t.score)
    assert best.id == EXPECTED[name]
    assert best.scheme == "iptc"
    assert best.evidence, "a topic without evidence"


def test_every_article_gets_its_best_code_even_below_the_threshold() -> None:
    strict = IptcClassifier(load_topics_file(), LinearModel.load(MODEL_PATH), min_score=0.99)
    topics = strict.classify("Notes", "Lorem ipsum dolor sit amet.")
    assert len(topics) == 1
    assert topics[0].score < 0.99


def test_a_zero_threshold_gives_all_17_top_level_codes_with_scores() -> None:
    every = IptcClassifier(load_topics_file(), LinearModel.load(MODEL_PATH), min_score=0.0)
    title, body = story("sport")
    codes = top_level(every.classify(title, body))
    assert len(codes) == 17
    assert codes == sorted(codes, key=lambda t: -t.score)


def test_second_level_codes_come_only_under_a_top_level_code_given(
    classifier: IptcClassifier,
) -> None:
    title, body = story("conflict")
    topics = classifier.classify(title, body)
    given = {t.id for t in top_level(topics)}
    children = [t for t in topics if t.parent is not None]
    assert {"medtop:20000056", "medtop:20000073"} <= {t.id for t in children}
    assert all(t.parent in given for t in children)
    # the sport story gets no conflict code, so none of its children either
    title, body = story("sport")
    assert not any(t.parent == "medtop:16000000" for t in classifier.classify(title, body))


def test_a_blocking_term_hides_the_shorter_term(classifier: IptcClassifier) -> None:
    body = "The {} between the two supermarket chains is hurting suppliers, analysts said."
    war = classifier.scores("Retail", body.format("war"))["medtop:16000000"]
    price_war = classifier.scores("Retail", body.format("price war"))["medtop:16000000"]
    assert price_war < war
    strike = classifier.scores("Dock", "Workers went on strike at the port.")["medtop:09000000"]
    air = classifier.scores("Dock", "An air strike hit the port.")["medtop:09000000"]
    assert air < strike


def test_lexicon_evidence_points_at_sentences_with_its_terms(classifier: IptcClassifier) -> None:
    title, body = story("weather")
    (weather,) = [t for t in classifier.classify(title, body) if t.id == "medtop:17000000"]
    (lexicon,) = [e for e in weather.evidence if e.rule == "iptc:lexicon"]
    assert lexicon.terms
    assert lexicon.sentences
    for span in lexicon.sentences:
        sentence = body[span.start : span.end]
        assert sentence.endswith(".")
        words = {w for w, _, _ in tokens(sentence)}
        assert any(set(term.split()) <= words for term in lexicon.terms), sentence


def test_model_evidence_names_the_words_that_raised_the_code(classifier: IptcClassifier) -> None:
    title, body = story("sport")
    (sport,) = [t for t in classifier.classify(title, body) if t.id == "medtop:15000000"]
    (model,) = [e for e in sport.evidence if e.rule == "iptc:model"]
    assert model.terms
    words = {w for w, _, _ in tokens(f"{title} {body}")}
    assert set(model.terms) <= words


def test_linked_armed_groups_are_evidence_of_conflict(classifier: IptcClassifier) -> None:
    body = (
        "Hezbollah said on Monday that it had moved more men to the south. Hezbollah leaders "
        "met in Beirut, and Hezbollah officials later spoke to reporters."
    )
    entities = link_entities(mentions_of(body, [("Hezbollah", EntityType.ORG)]), body)
    assert entities[0].id == "mm:org:hezbollah"
    with_entity = classifier.scores("Hezbollah moves", body, entities)["medtop:16000000"]
    without = classifier.scores("Hezbollah moves", body)["medtop:16000000"]
    assert with_entity > without
    topics = IptcClassifier(
        load_topics_file(), LinearModel.load(MODEL_PATH), min_score=0.0
    ).classify("Hezbollah moves", body, entities)
    (conflict,) = [t for t in topics if t.id == "medtop:16000000"]
    assert any(
        e.rule == "iptc:entities" and e.entities == [entities[0].id] for e in conflict.evidence
    )


def test_weights_that_do_not_match_the_codes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(
        json.dumps({"codes": ["medtop:15000000"], "bias": [0.0, 1.0], "weights": {"goal": [1.0]}})
    )
    with pytest.raises(ValueError, match="do not match"):
        LinearModel.load(path)


def test_a_code_table_naming_an_unknown_entity_kind_is_refused() -> None:
    data = load_topics_file().model_dump()
    data["codes"]["medtop:15000000"]["entities"] = {"kind:stadium": 1.0}
    spec = IptcCodeTable.model_validate(data)
    with pytest.raises(ValueError, match="kind:stadium"):
        IptcClassifier(spec, LinearModel.load(MODEL_PATH))


def test_a_code_table_with_an_unknown_parent_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown parent"):
        IptcCodeTable.model_validate(
            {"codes": {"medtop:20000056": {"label": "armed conflict", "parent": "medtop:99000000"}}}
        )
