"""Watch rules: validation, each condition, AND and any-of, evidence with offsets, rule files,
and the active set kept from the watch topic's records."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from pipeline import DATA_DIR
from pipeline.models import (
    EnrichedEvent,
    Entity,
    EntityType,
    Evidence,
    Location,
    Mention,
    Quote,
    Source,
    Span,
    Stance,
    Topic,
    WatchRule,
)
from pipeline.rules.watch import WatchRules, alerts, match, parse_rules

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
EXAMPLE_RULES = DATA_DIR / "examples" / "watch.yaml"

# An invented story; the offsets below are computed from it.
BODY = (
    "Officials from Eastland and Westmark met in Harbourton on Monday. "
    '"Westmark keeps breaking its promises," Anna Berg said after the talks. '
    "Westmark's envoy, Piet Lund, said the talks were useful."
)


def _span(text: str, after: int = 0) -> tuple[int, int]:
    start = BODY.index(text, after)
    return start, start + len(text)


def mention(
    text: str, type_: EntityType, sentiment: float | None = None, after: int = 0
) -> Mention:
    start, end = _span(text, after)
    return Mention(start=start, end=end, text=text, type=type_, sentiment=sentiment)


QUOTE_START, QUOTE_END = _span('"Westmark keeps breaking its promises,"')
REPORTED_START, REPORTED_END = _span("the talks were useful")


def event(
    *,
    westmark_sentiment: float | None = -0.7,
    stances: list[Stance] | None = None,
    duplicate_of: str | None = None,
    **fields: Any,
) -> EnrichedEvent:
    """The story as the enricher would publish it."""
    loc, per = EntityType.LOC, EntityType.PER
    westmark = [
        mention("Westmark", loc),
        mention("Westmark", loc, westmark_sentiment, after=QUOTE_START),
        mention("Westmark", loc, after=QUOTE_END),
    ]
    entities = [
        Entity(id=i, name=n, type=t, salience=s, mentions=m)
        for i, n, t, s, m in [
            ("Q-east", "Eastland", loc, 0.3, [mention("Eastland", loc)]),
            ("Q-west", "Westmark", loc, 0.6, westmark),
            ("Q-berg", "Anna Berg", per, 0.5, [mention("Anna Berg", per)]),
            ("local:per:piet-lund", "Piet Lund", per, 0.2, [mention("Piet Lund", per)]),
        ]
    ]
    quotes = [
        Quote(start=start, end=end, text=BODY[start:end], speaker=name, speaker_id=i, direct=d)
        for start, end, name, i, d in [
            (QUOTE_START, QUOTE_END, "Anna Berg", "Q-berg", True),
            (REPORTED_START, REPORTED_END, "Piet Lund", "local:per:piet-lund", False),
        ]
    ]
    values: dict[str, Any] = {
        "id": "a-1",
        "url": "https://www.daily.example.com/2026/05/04/talks",
        "source": Source(domain="example.com", name="The Daily Example"),
        "title": "Eastland and Westmark meet",
        "authors": [],
        "published_at": NOW,
        "ingested_at": NOW,
        "processed_at": NOW,
        "language": "en",
        "enriched": True,
        "body": BODY,
        "word_count": len(BODY.split()),
        "content_hash": "0" * 64,
        "duplicate_of": duplicate_of,
        "entities": entities,
        "quotes": quotes,
        "stances": stances or [],
        "topics": [
            Topic(id="medtop:11000000", label="politics", scheme="iptc", score=0.8),
            Topic(
                id="tag:eastland-westmark",
                label="Eastland-Westmark relations",
                scheme="mediamon",
                score=0.4,
            ),
        ],
        "places": [],
    }
    return EnrichedEvent(**(values | fields))


def rule(**fields: Any) -> WatchRule:
    return WatchRule.model_validate({"id": "r"} | fields)


def fired(evidence: list[Evidence] | None) -> list[str]:
    assert evidence is not None
    return [e.condition for e in evidence]


BERG_NEGATIVE_ON_WESTMARK = Stance(
    holder="Anna Berg",
    holder_id="Q-berg",
    target="Westmark",
    target_id="Q-west",
    polarity=-1,
    score=0.9,
    evidence=[Span(start=QUOTE_START + 1, end=QUOTE_END - 2)],
)


# Validation


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ({"id": "r"}, "at least one condition"),
        ({"id": "bad id", "language": ["en"]}, "id"),
        ({"id": "r", "entities": [{"any": []}]}, "entities.0.any"),
        ({"id": "r", "entity": [{"any": ["Q1"]}]}, "entity"),
        ({"id": "r", "stances": [{"polarity": "angry"}]}, "stances.0.polarity"),
        ({"id": "r", "entities": [{"any": ["Q1"], "min_salience": 2}]}, "min_salience"),
        ({"id": "r", "language": ["english"]}, "language.0"),
        ({"id": "r", "locations": [{"within_km": 5}]}, "any or near"),
        ({"id": "r", "locations": [{"near": [95, 0]}]}, "locations.0.near"),
    ],
)
def test_invalid_rules_are_rejected_naming_the_field(value: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError) as error:
        WatchRule.model_validate(value)
    assert complaint in str(error.value)


# Each condition


def test_an_entity_matches_by_id_name_or_mention_text_case_insensitively() -> None:
    for ref in ("Q-west", "westmark", "WESTMARK"):
        evidence = match(rule(entities=[{"any": [ref]}]), event())
        assert evidence is not None, ref
        (found,) = evidence
        assert found.entity is not None
        assert (found.entity.id, found.entity.name) == ("Q-west", "Westmark")
        assert [BODY[m.start : m.end] for m in found.mentions] == ["Westmark"] * 3
    assert match(rule(entities=[{"any": ["Northia"]}]), event()) is None


def test_an_entity_below_the_minimum_salience_does_not_match() -> None:
    assert match(rule(entities=[{"any": ["Eastland"], "min_salience": 0.3}]), event())
    assert match(rule(entities=[{"any": ["Eastland"], "min_salience": 0.31}]), event()) is None


def test_conditions_combine_with_and_and_their_lists_with_or() -> None:
    both = rule(entities=[{"any": ["Eastland"]}, {"any": ["Anna Berg"]}])
    either = rule(entities=[{"any": ["Northia", "Anna Berg"]}])
    missing = rule(entities=[{"any": ["Eastland"]}, {"any": ["Northia"]}])
    assert fired(match(both, event())) == ["entities", "entities"]
    assert [e.index for e in match(both, event()) or []] == [0, 1]
    assert fired(match(either, event())) == ["entities"]
    assert match(missing, event()) is None
    assert match(rule(language=["en"], entities=[{"any": ["Northia"]}]), event()) is None


def test_a_topic_matches_by_id_or_label_above_its_minimum_score() -> None:
    (by_id,) = match(rule(topics=[{"any": ["medtop:11000000"]}]), event()) or []
    assert by_id.topic is not None
    assert by_id.topic.label == "politics"
    assert match(rule(topics=[{"any": ["eastland-westmark relations"]}]), event())
    assert (
        match(rule(topics=[{"any": ["tag:eastland-westmark"], "min_score": 0.5}]), event()) is None
    )
    assert match(rule(topics=[{"any": ["medtop:16000000"]}]), event()) is None


def test_a_quote_matches_by_speaker_kind_and_what_it_mentions() -> None:
    # "Berg" is neither the name nor a mention of Anna Berg
    assert match(rule(quotes=[{"speaker": ["Berg"]}]), event()) is None
    (said,) = match(rule(quotes=[{"speaker": ["Anna Berg"]}]), event()) or []
    assert said.quote is not None
    assert BODY[said.quote.start : said.quote.end] == said.quote.text
    assert said.quote.speaker_id == "Q-berg"
    assert match(rule(quotes=[{"speaker": ["Q-berg"], "direct": False}]), event()) is None
    assert match(rule(quotes=[{"speaker": ["Piet Lund"], "direct": False}]), event())

    (about,) = (
        match(rule(quotes=[{"speaker": ["Anna Berg"], "about": ["Westmark"]}]), event()) or []
    )
    assert about.entity is not None
    assert about.entity.id == "Q-west"
    assert [(m.start, m.end) for m in about.mentions] == [_span("Westmark", QUOTE_START)]
    assert match(rule(quotes=[{"speaker": ["Anna Berg"], "about": ["Eastland"]}]), event()) is None


def test_a_published_stance_matches_holder_target_and_polarity() -> None:
    story = event(stances=[BERG_NEGATIVE_ON_WESTMARK], westmark_sentiment=None)
    negative = {"holder": ["Anna Berg"], "target": ["Q-west"], "polarity": "negative"}
    (found,) = match(rule(stances=[negative]), story) or []
    assert found.stance == BERG_NEGATIVE_ON_WESTMARK
    assert found.quote is None
    assert "Anna Berg → Westmark: negative" in found.summary
    assert match(rule(stances=[negative | {"polarity": "positive"}]), story) is None
    assert match(rule(stances=[negative | {"holder": ["Piet Lund"]}]), story) is None
    assert match(rule(stances=[negative | {"target": ["Eastland"]}]), story) is None
    assert match(rule(stances=[negative | {"min_score": 0.95}]), story) is None
    assert match(rule(stances=[{"polarity": "negative"}]), story), "empty lists match anyone"


def test_a_quoted_stance_needs_its_evidence_inside_a_quote_by_its_holder() -> None:
    quoted = {"holder": ["Q-berg"], "target": ["Westmark"], "quoted": True}
    story = event(stances=[BERG_NEGATIVE_ON_WESTMARK], westmark_sentiment=None)
    (found,) = match(rule(stances=[quoted]), story) or []
    assert found.quote is not None
    assert (found.quote.start, found.quote.end) == (QUOTE_START, QUOTE_END)
    outside = BERG_NEGATIVE_ON_WESTMARK.model_copy(update={"evidence": [Span(start=0, end=9)]})
    assert match(rule(stances=[quoted]), event(stances=[outside], westmark_sentiment=None)) is None


def test_a_stance_also_matches_the_targets_sentiment_inside_the_holders_quote() -> None:
    condition = {"holder": ["Anna Berg"], "target": ["Westmark"], "polarity": "negative"}
    (found,) = match(rule(stances=[condition]), event(westmark_sentiment=-0.7)) or []
    assert found.stance is None
    assert found.quote is not None
    assert found.quote.speaker == "Anna Berg"
    assert found.entity is not None
    assert found.entity.id == "Q-west"
    assert [(m.start, m.end, m.sentiment) for m in found.mentions] == [
        (*_span("Westmark", QUOTE_START), -0.7)
    ]
    assert "sentiment -0.70" in found.summary
    assert match(rule(stances=[condition]), event(westmark_sentiment=0.5)) is None
    assert match(rule(stances=[condition]), event(westmark_sentiment=None)) is None
    # -0.15 reads as neutral (the +-0.2 reading of a sentiment), not negative
    assert match(rule(stances=[condition]), event(westmark_sentiment=-0.15)) is None
    neutral = condition | {"polarity": "neutral"}
    assert match(rule(stances=[neutral]), event(westmark_sentiment=-0.15)) is not None
    strong = condition | {"min_score": 0.8}
    assert match(rule(stances=[strong]), event(westmark_sentiment=-0.7)) is None
    # the same sentiment outside a quote by the holder is not the holder's stance
    assert match(rule(stances=[condition | {"holder": ["Piet Lund"]}]), event()) is None


def test_a_location_matches_by_id_country_or_distance_from_a_point() -> None:
    start, end = _span("Westmark")
    westmark = Location(
        id="geonames:1", name="Westmark", kind="city", country="XW", lat=10.0, lon=20.0,
        mentions=[Span(start=start, end=end)],
    )  # fmt: skip
    story = event(locations=[westmark])
    evidence = match(rule(locations=[{"any": ["geonames:1"]}]), story)
    assert fired(evidence) == ["locations"]
    assert evidence is not None
    assert [m.text for m in evidence[0].mentions] == ["Westmark"]
    assert fired(match(rule(locations=[{"any": ["xw"]}]), story)) == ["locations"]
    # 0.3 degrees of latitude: about 33 km
    near = {"near": [10.3, 20.0], "within_km": 40}
    assert fired(match(rule(locations=[near]), story)) == ["locations"]
    assert match(rule(locations=[near | {"within_km": 20}]), story) is None
    assert match(rule(locations=[{"any": ["geonames:2"]}]), story) is None
    assert match(rule(locations=[{"any": ["geonames:1"]}]), event()) is None


def test_source_matches_domain_subdomains_or_outlet_name_and_language_the_code() -> None:
    for source in ("example.com", "EXAMPLE.COM", "the daily example"):
        (found,) = match(rule(source=[source]), event()) or []
        assert found.summary == "source example.com"
    sub = event(source=Source(domain="news.example.com"))
    assert match(rule(source=["example.com"]), sub)
    assert match(rule(source=["other.com"]), event()) is None
    assert match(rule(source=["ample.com"]), event()) is None
    assert fired(match(rule(language=["de", "EN"]), event())) == ["language"]
    assert match(rule(language=["de"]), event()) is None
    assert match(rule(language=["en"]), event(language=None)) is None


def test_copies_of_a_seen_article_match_only_rules_that_ask_for_them() -> None:
    copy = event(duplicate_of="a-0")
    assert match(rule(language=["en"]), copy) is None
    assert match(rule(language=["en"], duplicates=True), copy)


# Alerts


def test_alerts_carry_the_article_the_rule_and_the_evidence_of_every_condition() -> None:
    rules = [
        rule(
            id="berg-on-westmark",
            description="Berg's quotes on Westmark",
            quotes=[{"speaker": ["Anna Berg"], "about": ["Westmark"]}],
            source=["example.com"],
        ),
        rule(id="german", language=["de"]),
        rule(id="politics", topics=[{"any": ["politics"]}]),
    ]
    found = alerts(rules, event(), NOW)
    assert [a.rule_id for a in found] == ["berg-on-westmark", "politics"]
    alert = found[0]
    assert alert.rule_description == "Berg's quotes on Westmark"
    assert (alert.article_id, alert.title) == ("a-1", "Eastland and Westmark meet")
    assert alert.url == "https://www.daily.example.com/2026/05/04/talks"
    assert alert.matched_at == NOW
    assert [e.condition for e in alert.evidence] == ["source", "quotes"]
    parsed = orjson.loads(alert.model_dump_json())
    assert parsed["record_type"] == "alert"
    assert parsed["evidence"][1]["mentions"][0]["text"] == "Westmark"


# Rule files


def test_rule_files_hold_one_rule_a_list_or_json_lines() -> None:
    one, errors = parse_rules("id: a\nlanguage: [en]\n", "one.yaml")
    assert ([r.id for r in one], errors) == (["a"], [])
    listed, errors = parse_rules(
        b'[{"id": "a", "language": ["en"]}, {"id": "b", "source": ["x.org"]}]', "l"
    )
    assert ([r.id for r in listed], errors) == (["a", "b"], [])
    lines, errors = parse_rules(
        '{"id": "a", "language": ["en"]}\n\n{"id": "b", "language": ["de"]}\n', "j"
    )
    assert ([r.id for r in lines], errors) == (["a", "b"], [])
    assert parse_rules("", "empty.yaml") == ([], [])


def test_bad_rules_in_a_file_are_reported_and_the_good_ones_kept() -> None:
    text = """
- id: good
  language: [en]
- id: no-conditions
- id: good
  source: [example.com]
- just a string
"""
    rules, errors = parse_rules(text, "rules.yaml")
    assert [r.id for r in rules] == ["good"]
    assert len(errors) == 3
    assert errors[0].startswith("rules.yaml: rule 2 (no-conditions): ")
    assert "at least one condition" in errors[0]
    assert errors[1] == "rules.yaml: rule 3 (good): the id 'good' is used by an earlier rule"
    assert errors[2].startswith("rules.yaml: rule 4: ")
    rules, errors = parse_rules("id: [unclosed\n", "broken.yaml")
    assert rules == []
    assert errors[0].startswith("broken.yaml: not YAML, JSON or JSON lines: ")


def test_the_example_rule_file_is_valid() -> None:
    rules, errors = parse_rules(EXAMPLE_RULES.read_bytes(), str(EXAMPLE_RULES))
    assert errors == []
    assert len(rules) >= 3
    putin = next(r for r in rules if r.stances)
    assert putin.stances[0].polarity == "negative"


# The active rules, from the file and the watch topic's records


def test_topic_records_add_replace_and_remove_rules_over_the_files(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counts: list[int] = []
    file_rule = WatchRule(id="a", language=["en"])
    rules = WatchRules([file_rule], on_change=counts.append)
    assert rules.active == [file_rule]

    replacement = WatchRule(id="a", language=["de"])
    rules.apply(b"a", replacement.model_dump_json().encode(), "t@0")
    rules.apply(b"b", WatchRule(id="b", source=["x.org"]).model_dump_json().encode(), "t@1")
    assert sorted((r.id, tuple(r.language)) for r in rules.active) == [("a", ("de",)), ("b", ())]

    rules.apply(b"a", None, "t@2")  # the topic's rule goes, the file's comes back
    assert sorted(r.id for r in rules.active) == ["a", "b"]
    assert next(r for r in rules.active if r.id == "a") == file_rule
    rules.apply(b"b", None, "t@3")
    rules.apply(b"never-added", None, "t@4")
    assert rules.active == [file_rule]
    assert counts == [1, 1, 2, 2, 1]

    with caplog.at_level(logging.ERROR):
        rules.apply(b"c", WatchRule(id="c", language=["en"]).model_dump_json().encode(), "t@5")
        rules.apply(b"c", b'{"id": "c"}', "t@6")  # the latest record of a key decides
        rules.apply(b"d", b"\xff not json", "t@7")
        rules.apply(b"e", WatchRule(id="f", language=["en"]).model_dump_json().encode(), "t@8")
        rules.apply(None, b"{}", "t@9")
    assert rules.active == [file_rule]
    messages = [r.getMessage() for r in caplog.records]
    assert any("t@6" in m and "watch rule c is not valid" in m for m in messages)
    assert any("t@7" in m and "watch rule d is not valid" in m for m in messages)
    assert any("t@8" in m and "not its key" in m for m in messages)
    assert any("t@9" in m and "without a key" in m for m in messages)
