"""Subject tags: the reference article, relationships only between salient actors of the same
story, keywords, IPTC conditions, the shipped taxonomy's coverage, and user taxonomies that
extend or replace it (validated), through the enricher as configured by the settings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, EntityType, RawRecord, Taxonomy, Topic
from pipeline.resources.kb import default_kb
from pipeline.settings import Settings
from pipeline.stages.entities.linking import link_entities
from pipeline.stages.entities.places import find_places
from pipeline.stages.topics.tags import Tagger, load_tagger, load_taxonomy, read_taxonomy
from tests.stages.entities.test_places import mentions_of

REFERENCE = Path("/work/shared/samples/moscowtimes-2015-10-15-putin-us-delegation.txt")
PER, ORG, LOC, MISC = EntityType.PER, EntityType.ORG, EntityType.LOC, EntityType.MISC

# Invented: Moscow and Washington at odds, in the same sentences.
RIVALS = (
    "Russia accused the United States on Monday of blocking talks on arms control. Russian "
    "officials said Washington had refused to send a delegation, while U.S. diplomats said "
    "Russia had set impossible conditions.\n\n"
    "The Kremlin said Russia remained open to dialogue with the United States. The White House "
    "said the U.S. would not negotiate while Russian troops stayed on the border."
)
RIVALS_SPANS = [
    ("Russia", LOC), ("United States", LOC), ("Russian", MISC), ("Washington", LOC),
    ("U.S.", LOC), ("Kremlin", ORG), ("White House", ORG),
]  # fmt: skip
# Invented: a Syrian story that names Russia and the United States once each, apart.
SYRIA_ONLY = (
    "Syrian government forces retook a village near Aleppo on Tuesday, Syrian state media "
    "said. Syria's army said it had cleared the area of rebels.\n\n"
    "Residents of the Syrian village said the fighting had lasted three days. Russia has "
    "backed the Syrian government since 2015. Rebels in Syria have received some support "
    "from the United States in the past."
)
SYRIA_SPANS = [
    ("Syrian", MISC), ("Aleppo", LOC), ("Syria", LOC), ("Russia", LOC), ("United States", LOC),
]  # fmt: skip


def tag(
    tagger: Tagger,
    title: str,
    body: str,
    spans: list[tuple[str, EntityType]],
    iptc: Sequence[Topic] = (),
) -> list[Topic]:
    entities = link_entities(mentions_of(body, spans), body, title)
    return tagger.tag(title, body, entities, find_places(entities, body, title), iptc)


def ids(topics: Sequence[Topic]) -> set[str]:
    return {t.id for t in topics}


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return load_tagger()


@pytest.fixture(scope="module")
def reference() -> EnrichedEvent:
    if not REFERENCE.is_file():
        pytest.skip(f"reference article not found at {REFERENCE}")
    (event,) = Enricher(Settings()).process(
        [RawRecord(value=REFERENCE.read_bytes(), origin=REFERENCE.name)]
    )
    assert isinstance(event, EnrichedEvent)
    return event


def test_the_reference_article_gets_syria_us_russia_politics_and_conflict(
    reference: EnrichedEvent,
) -> None:
    by_id = {t.id: t for t in reference.topics}
    assert by_id["tag:syria"].label == "Syria"
    assert by_id["tag:us-russia-relations"].label == "US\u2013Russia relations"
    assert by_id["medtop:11000000"].label == "politics"
    assert by_id["medtop:16000000"].label == "conflict, war and peace"
    assert {by_id[i].scheme for i in ("tag:syria", "medtop:11000000")} == {"mediamon", "iptc"}
    assert all(topic.evidence for topic in reference.topics)


def test_a_relationship_tag_shows_the_sentences_that_join_its_sides(
    reference: EnrichedEvent,
) -> None:
    (relations,) = [t for t in reference.topics if t.id == "tag:us-russia-relations"]
    (evidence,) = relations.evidence
    assert evidence.rule == "tag:us-russia-relations#actors"
    assert {"Q30", "Q159", "Q7747"} <= set(evidence.entities)
    mentions = {
        (m.start, e.id) for e in reference.entities if e.id in evidence.entities for m in e.mentions
    }
    for span in evidence.sentences:
        inside = {i for start, i in mentions if span.start <= start < span.end}
        assert inside & {"Q30", "Q61", "mm:org:white-house", "mm:person:josh-earnest"}
        assert inside & {"Q159", "Q7747", "mm:person:sergei-lavrov", "mm:person:dmitry-medvedev"}


def test_salient_actors_named_together_make_a_relationship(tagger: Tagger) -> None:
    topics = tag(tagger, "Moscow and Washington trade blame", RIVALS, RIVALS_SPANS)
    assert {"tag:us-russia-relations", "tag:russia", "tag:united-states"} <= ids(topics)


def test_countries_merely_named_make_no_relationship(tagger: Tagger) -> None:
    topics = tag(tagger, "Syrian army retakes village", SYRIA_ONLY, SYRIA_SPANS)
    assert "tag:syria" in ids(topics)
    assert "tag:us-russia-relations" not in ids(topics)
    assert "tag:russia" not in ids(topics)


def test_an_iptc_condition_needs_the_code(tagger: Tagger) -> None:
    conflict = Topic(
        id="medtop:16000000", label="conflict, war and peace", scheme="iptc", score=0.9
    )
    without = tag(tagger, "Syrian army retakes village", SYRIA_ONLY, SYRIA_SPANS)
    with_code = tag(tagger, "Syrian army retakes village", SYRIA_ONLY, SYRIA_SPANS, [conflict])
    assert "tag:syrian-civil-war" not in ids(without)
    (war,) = [t for t in with_code if t.id == "tag:syrian-civil-war"]
    assert war.evidence[0].rule == "tag:syrian-civil-war#places+iptc"
    assert war.evidence[0].terms == ["medtop:16000000"]


def test_keywords_match_whatever_the_dash(tagger: Tagger) -> None:
    body = "Grain exports have fallen since the Russia\u2013Ukraine war began, traders said."
    (war,) = [t for t in tag(tagger, "Grain", body, []) if t.id == "tag:russia-ukraine-war"]
    assert war.evidence[0].terms == ["russia\u2013ukraine war"]
    assert body[war.evidence[0].sentences[0].start :].startswith("Grain exports")


def test_an_organisation_named_once_in_passing_is_no_tag(tagger: Tagger) -> None:
    once = (
        "Farm ministers from France and Germany met in Brussels on Monday. France wants more "
        "support for farmers, and Germany agreed. The French minister said Brussels must act. "
        "One German official once worked at NATO. Ministers from France and Germany will meet "
        "again in Brussels next month."
    )
    twice = "NATO ministers met in Brussels. NATO said the alliance would spend more."
    spans = [("France", LOC), ("Germany", LOC), ("Brussels", LOC), ("French", MISC)]
    spans += [("German", MISC), ("NATO", ORG)]
    assert "tag:nato" not in ids(tag(tagger, "Farm ministers meet", once, spans))
    assert "tag:nato" in ids(tag(tagger, "Ministers meet", twice, spans))


def test_the_shipped_taxonomy_covers_every_country_and_the_major_conflicts() -> None:
    taxonomy = load_taxonomy()
    countries = {rule.places[0] for t in taxonomy.tags if t.kind == "country" for rule in t.rules}
    known = {e.country for e in default_kb() if e.kind == "country"}
    assert countries == known
    assert len(countries) > 230
    curated = {
        "tag:us-russia-relations",
        "tag:us-china-relations",
        "tag:india-pakistan-relations",
        "tag:eu-uk-relations",
        "tag:russia-ukraine-war",
        "tag:syrian-civil-war",
        "tag:israeli-palestinian-conflict",
        "tag:gaza-war",
        "tag:yemeni-civil-war",
        "tag:iran-nuclear-programme",
        "tag:north-korean-nuclear-programme",
        "tag:brexit",
    }
    assert curated <= {t.id for t in taxonomy.tags}


def test_every_rule_has_its_own_id(tagger: Tagger) -> None:
    rule_ids = [rule.id for tag in tagger.tags for rule in tag.rules]
    assert len(rule_ids) == len(set(rule_ids))
    (sea,) = [tag for tag in tagger.tags if tag.spec.id == "tag:south-china-sea-dispute"]
    assert [r.id for r in sea.rules] == [
        "tag:south-china-sea-dispute#keywords+iptc",
        "tag:south-china-sea-dispute#keywords+iptc-2",
    ]


OWN = """
version: 1
tags:
  - id: tag:grain-trade
    label: Grain trade
    kind: issue
    rules:
      - keywords: [grain exports, wheat exports]
  - id: tag:syria
    label: Syrie
    kind: country
    rules:
      - places: [SY]
  - id: tag:russia
    label: Russia
    kind: country
    enabled: false
    rules:
      - places: [RU]
"""


def test_a_users_taxonomy_extends_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(OWN, encoding="utf-8")
    tags = {t.id: t for t in load_taxonomy(path, "extend").tags}
    assert tags["tag:grain-trade"].label == "Grain trade"
    assert tags["tag:syria"].label == "Syrie"  # same id: the user's replaces the shipped one
    assert "tag:russia" not in tags  # enabled: false removes it
    assert "tag:us-russia-relations" in tags


def test_a_users_taxonomy_replaces_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(OWN, encoding="utf-8")
    assert [t.id for t in load_taxonomy(path, "replace").tags] == ["tag:grain-trade", "tag:syria"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("tags:\n- {id: tag:x, label: X, kind: issue, rules: [{}]}", "a rule needs"),
        ("tags:\n- {id: 'Tag X', label: X, kind: issue, rules: [{keywords: [x]}]}", "pattern"),
        ("tags:\n- {id: tag:x, label: X, kind: issue, rule: [{keywords: [x]}]}", "rule"),
        ("tags:\n- {id: tag:x, label: X, kind: planet, rules: [{keywords: [x]}]}", "kind"),
        ("tags: [", "expected"),
    ],
)
def test_an_invalid_taxonomy_file_is_refused_with_its_name(
    tmp_path: Path, text: str, error: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml") as raised:
        read_taxonomy(path)
    assert error in str(raised.value)


def test_unknown_countries_entities_and_codes_are_refused() -> None:
    taxonomy = Taxonomy.model_validate(
        {
            "tags": [
                {
                    "id": "tag:x",
                    "label": "X",
                    "kind": "issue",
                    "rules": [
                        {"places": ["QQ"]},
                        {"entities": ["mm:org:nobody"]},
                        {"keywords": ["x"], "iptc": ["medtop:99999999"]},
                    ],
                }
            ]
        }
    )
    with pytest.raises(ValueError, match="QQ") as raised:
        Tagger(taxonomy)
    assert "mm:org:nobody" in str(raised.value)
    assert "medtop:99999999" in str(raised.value)


GRAIN = {
    "title": "Grain exports slow",
    "body": "Grain exports from the Black Sea ports slowed in March, traders said on Monday. "
    "Shipping firms blamed higher insurance costs.",
}


def test_the_enricher_uses_the_taxonomy_of_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(OWN, encoding="utf-8")
    enricher = Enricher(Settings(taxonomy_path=path, taxonomy_mode="replace"))
    (event,) = enricher.process([RawRecord(value=orjson.dumps(GRAIN))])
    assert isinstance(event, EnrichedEvent)
    tags = [t for t in event.topics if t.scheme == "mediamon"]
    assert [t.id for t in tags] == ["tag:grain-trade"]
    assert [t.id for t in event.topics if t.scheme == "iptc"]  # IPTC codes as before


def test_a_topic_failure_leaves_that_article_without_topics(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    enricher = Enricher(Settings())
    real = Tagger.tag

    def failing(self: Tagger, title: str | None, body: str, *args: object) -> list[Topic]:
        if "insurance" in body:
            raise RuntimeError("broken rule")
        return real(self, title, body, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Tagger, "tag", failing)
    other = {"title": "Rain", "body": "Heavy rain and strong winds are forecast for Friday."}
    with caplog.at_level(logging.ERROR, logger="pipeline.enrich"):
        first, second = enricher.process(
            [RawRecord(value=orjson.dumps(GRAIN)), RawRecord(value=orjson.dumps(other))]
        )
    assert isinstance(first, EnrichedEvent)
    assert isinstance(second, EnrichedEvent)
    assert first.topics == []
    assert first.enriched
    assert second.topics
    assert "topics stage failed" in caplog.text


def test_entities_of_an_article_give_country_tags_with_their_evidence(tagger: Tagger) -> None:
    topics = tag(tagger, "Moscow and Washington trade blame", RIVALS, RIVALS_SPANS)
    (russia,) = [t for t in topics if t.id == "tag:russia"]
    (evidence,) = russia.evidence
    assert evidence.rule == "tag:russia#places"
    assert "Q159" in evidence.entities
    assert all(isinstance(e, str) for e in evidence.entities)
    assert russia.score == 1.0  # the strongest place of the story


def test_a_broken_taxonomy_file_stops_the_enricher_before_any_article(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ntags:\n- {id: tag:x, label: X, kind: issue, rules: [{}]}\n")
    enricher = Enricher(Settings(taxonomy_path=path))
    with pytest.raises(ValueError, match=r"broken\.yaml"):
        enricher.warm_up()  # what the worker does at start-up
    with pytest.raises(ValueError, match=r"broken\.yaml"):
        enricher.process([RawRecord(value=orjson.dumps(GRAIN))])
