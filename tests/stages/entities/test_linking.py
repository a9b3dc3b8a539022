"""The knowledge base and entity linking: names, demonyms, capitals, offices, short forms,
acronyms and salience, on small invented texts (no model needed: mentions are given)."""

from __future__ import annotations

import json

import pycountry
import pytest

from pipeline.models import Entity, EntityType
from pipeline.resources.kb import KB_PATH, KnowledgeBase, default_kb
from pipeline.stages.entities.linking import RawMention, link_entities

PER, ORG, LOC, MISC = EntityType.PER, EntityType.ORG, EntityType.LOC, EntityType.MISC


def mention(body: str, text: str, etype: EntityType, nth: int = 0) -> RawMention:
    """The ``nth`` occurrence of ``text`` in ``body`` as a mention."""
    start = -1
    for _ in range(nth + 1):
        start = body.index(text, start + 1)
    return RawMention(start, start + len(text), text, etype)


def by_id(entities: list[Entity]) -> dict[str, Entity]:
    return {e.id: e for e in entities}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return default_kb()


# --- knowledge base ----------------------------------------------------------------------------


def test_kb_ids_are_unique_and_entries_well_formed() -> None:
    raw = json.loads(KB_PATH.read_text(encoding="utf-8"))["entries"]
    ids = [e["id"] for e in raw]
    assert len(ids) == len(set(ids)) > 900
    for entry in raw:
        assert entry["id"].startswith(("Q", "mm:")), entry["id"]
        assert entry["type"] in {"PER", "ORG", "LOC", "MISC"}
        assert entry["name"]


def test_every_alias_resolves_to_its_entry(kb: KnowledgeBase) -> None:
    for entry in kb:
        for name in entry.names:
            assert entry in kb.lookup(name), (name, entry.id)


def test_places_carry_iso_codes(kb: KnowledgeBase) -> None:
    for entry in kb:
        if entry.kind in {"country", "capital", "city", "region", "former-country"}:
            assert entry.country is not None, entry.id
            assert entry.country == "XK" or pycountry.countries.get(alpha_2=entry.country)


def test_known_wikidata_ids(kb: KnowledgeBase) -> None:
    assert kb.lookup("Russia")[0].id == "Q159"
    assert kb.lookup("United States")[0].id == "Q30"
    assert kb.lookup("Vladimir Putin")[0].id == "Q7747"
    assert kb.lookup("U.S.")[0].country == "US"


@pytest.mark.parametrize(
    ("word", "code"),
    [("Russian", "RU"), ("Kazakh", "KZ"), ("Syrian", "SY"), ("Americans", "US"),
     ("British", "GB"), ("Israelis", "IL"), ("Chinese", "CN")],
)  # fmt: skip
def test_demonyms_resolve_to_their_country(kb: KnowledgeBase, word: str, code: str) -> None:
    country = kb.demonym(word)
    assert country is not None
    assert country.kind == "country"
    assert country.country == code


def test_office_holders_by_year(kb: KnowledgeBase) -> None:
    russia, usa = kb.lookup("Russia")[0].id, kb.lookup("United States")[0].id

    def holder(title: str, of: str, year: int | None) -> str | None:
        entry = kb.holder(title, of, year)
        return entry.name if entry else None

    assert holder("President", russia, 2015) == "Vladimir Putin"
    assert holder("President", russia, 2010) == "Dmitry Medvedev"
    assert holder("President", usa, 2016) == "Barack Obama"
    assert holder("President", usa, 2018) == "Donald Trump"
    assert holder("Foreign Minister", russia, None) == "Sergei Lavrov"


def test_acronyms_match_only_exactly(kb: KnowledgeBase) -> None:
    assert kb.lookup("IS")[0].name == "Islamic State"
    assert kb.lookup("is") == []
    assert kb.lookup("Who") == []


# --- linking -----------------------------------------------------------------------------------


def test_short_forms_join_the_full_name_and_titles_are_stripped() -> None:
    body = (
        "President Vladimir Putin opened the forum in Sochi. Later Putin said the talks "
        "were useful, and Putin's aides agreed."
    )
    mentions = [
        mention(body, "President Vladimir Putin", PER),
        mention(body, "Sochi", LOC),
        mention(body, "Putin", PER, 1),
        mention(body, "Putin's", PER),
    ]
    entities = by_id(link_entities(mentions, body))
    putin = entities["Q7747"]
    assert putin.name == "Vladimir Putin"
    assert putin.type == PER
    assert [m.text for m in putin.mentions] == ["Vladimir Putin", "Putin", "Putin's"]
    first = putin.mentions[0]
    assert body[first.start : first.end] == "Vladimir Putin"


def test_a_local_person_keeps_one_entity_without_the_title() -> None:
    body = (
        "Foreign Minister Anna Kovalenko of the fictional republic arrived. Kovalenko said "
        "the visit was short. White House spokesman Tom Reddle declined to comment."
    )
    mentions = [
        mention(body, "Foreign Minister Anna Kovalenko", PER),
        mention(body, "Kovalenko", PER, 1),
        mention(body, "White House", LOC),
        mention(body, "spokesman Tom Reddle", PER),
    ]
    entities = by_id(link_entities(mentions, body))
    kovalenko = entities["local:per:anna-kovalenko"]
    assert kovalenko.name == "Anna Kovalenko"
    assert len(kovalenko.mentions) == 2
    assert "local:per:tom-reddle" in entities
    white_house = entities["mm:org:white-house"]
    assert white_house.type == ORG  # the knowledge base's type; the mention keeps its own
    assert white_house.mentions[0].type == LOC


def test_us_united_states_and_washington_as_government_are_one_entity() -> None:
    body = (
        "Officials in the U.S. said the United States would reply. Moscow wants a meeting "
        "with Washington, and a delegation may fly to Washington next week."
    )
    mentions = [
        mention(body, "U.S.", LOC),
        mention(body, "United States", LOC),
        mention(body, "Moscow", LOC),
        mention(body, "Washington", LOC),
        mention(body, "Washington", LOC, 1),
    ]
    entities = by_id(link_entities(mentions, body))
    usa = entities["Q30"]
    assert usa.name == "United States"
    assert [m.text for m in usa.mentions] == ["U.S.", "United States", "Washington"]
    assert entities["Q159"].mentions[0].text == "Moscow"  # Moscow as the government
    city = entities["Q61"]  # the place a delegation flies to
    assert city.name == "Washington"
    assert city.mentions[0].start == body.rindex("Washington")


def test_isil_and_islamic_state_are_one_organisation() -> None:
    body = "Jets struck Islamic State positions. ISIL fighters, also called ISIS or Daesh, fled."
    mentions = [
        mention(body, "Islamic State", ORG),
        mention(body, "ISIL", ORG),
        mention(body, "ISIS", ORG),
        mention(body, "Daesh", MISC),
    ]
    (entity,) = link_entities(mentions, body)
    assert entity.id == "mm:org:islamic-state"
    assert entity.type == ORG
    assert len(entity.mentions) == 4


def test_a_mention_cut_short_of_a_known_name_grows_to_it() -> None:
    body = "Strikes aimed at the Islamic State continued."
    (entity,) = link_entities([mention(body, "Islamic", MISC)], body)
    assert entity.name == "Islamic State"
    assert entity.mentions[0].text == "Islamic State"


def test_demonyms_link_to_their_country_and_keep_their_type() -> None:
    body = "Russian officials met Syrian envoys in Russia. Kazakh diplomats hosted them."
    mentions = [
        mention(body, "Russian", MISC),
        mention(body, "Syrian", MISC),
        mention(body, "Russia", LOC, 1),  # the first "Russia" is inside "Russian"
        mention(body, "Kazakh", MISC),
    ]
    entities = by_id(link_entities(mentions, body))
    russia = entities["Q159"]
    assert russia.type == LOC
    assert [(m.text, m.type) for m in russia.mentions] == [("Russian", MISC), ("Russia", LOC)]
    assert entities["Q858"].mentions[0].type == MISC
    assert entities["Q232"].name == "Kazakhstan"


def test_an_office_without_a_name_is_its_holder_in_the_articles_year() -> None:
    body = "The Russian President said the plan was weak. The Russian president later left."
    mentions = [mention(body, "Russian", MISC), mention(body, "Russian", MISC, 1)]
    entities = by_id(link_entities(mentions, body, year=2015))
    putin = entities["Q7747"]
    assert [m.text for m in putin.mentions] == ["Russian President", "Russian president"]
    assert "Q159" not in entities  # the demonym is part of the office mention
    earlier = by_id(link_entities(mentions, body, year=2010))
    assert "mm:person:dmitry-medvedev" in earlier


def test_an_office_followed_by_a_name_is_only_a_title() -> None:
    body = "Russian President Vladimir Putin spoke. The former Russian President was absent."
    mentions = [mention(body, "Russian", MISC), mention(body, "Vladimir Putin", PER)]
    entities = by_id(link_entities(mentions, body, year=2015))
    assert [m.text for m in entities["Q7747"].mentions] == ["Vladimir Putin"]
    assert [m.text for m in entities["Q159"].mentions] == ["Russian"]


def test_a_well_known_short_form_resolves_without_the_full_name() -> None:
    body = "Forces loyal to Assad advanced, officials said."
    (entity,) = link_entities([mention(body, "Assad", PER)], body)
    assert entity.id == "mm:person:bashar-al-assad"


def test_a_short_form_shared_by_two_people_of_the_article_stays_apart() -> None:
    body = "Anna Berg and Lars Berg met. Berg said nothing."
    mentions = [
        mention(body, "Anna Berg", PER),
        mention(body, "Lars Berg", PER),
        mention(body, "Berg", PER, 2),
    ]
    ids = {e.id for e in link_entities(mentions, body)}
    assert ids == {"local:per:anna-berg", "local:per:lars-berg", "local:per:berg"}


def test_an_acronym_joins_the_organisation_it_abbreviates() -> None:
    body = "The Harbour Workers Union called a strike. The HWU said talks had failed."
    mentions = [mention(body, "Harbour Workers Union", ORG), mention(body, "HWU", ORG)]
    (entity,) = link_entities(mentions, body)
    assert entity.id == "local:org:harbour-workers-union"
    assert len(entity.mentions) == 2


def test_types_must_fit_a_person_is_not_a_country() -> None:
    body = "Jordan scored twice for the home side."
    (entity,) = link_entities([mention(body, "Jordan", PER)], body)
    assert entity.id == "local:per:jordan"


# --- salience ----------------------------------------------------------------------------------


def test_salience_favours_frequent_early_and_title_entities_and_sums_to_one() -> None:
    body = "Alpha Corp grew. " + "x " * 400 + "Beta Ltd and Beta Ltd and Gamma Inc and Delta Co."
    mentions = [
        mention(body, "Alpha Corp", ORG),
        mention(body, "Beta Ltd", ORG),
        mention(body, "Beta Ltd", ORG, 1),
        mention(body, "Gamma Inc", ORG),
        mention(body, "Delta Co", ORG),
    ]
    plain = link_entities(mentions, body)
    assert [e.name for e in plain][:2] in (["Alpha Corp", "Beta Ltd"], ["Beta Ltd", "Alpha Corp"])
    assert sum(e.salience for e in plain) == pytest.approx(1.0, abs=1e-3)
    titled = link_entities(mentions, body, title="Delta Co wins contract")
    assert titled[0].name == "Delta Co"
    assert sum(e.salience for e in titled) == pytest.approx(1.0, abs=1e-3)
    delta = {e.name: e.salience for e in plain}["Delta Co"]
    assert {e.name: e.salience for e in titled}["Delta Co"] > delta


def test_a_demonym_in_the_title_raises_its_country() -> None:
    body = "Officials met in Oslo. " + "y " * 300 + "Russia was mentioned. Norway too."
    mentions = [
        mention(body, "Oslo", LOC),
        mention(body, "Russia", LOC),
        mention(body, "Norway", LOC),
    ]
    entities = link_entities(mentions, body, title="Talks with Russian side")
    assert entities[0].id == "Q159"


def test_mentions_of_an_unknown_name_form_one_local_entity_of_the_usual_type() -> None:
    body = "Zorblat won. ZORBLAT fans cheered. Zorblat the horse"
    mentions = [
        mention(body, "Zorblat", ORG),
        mention(body, "ZORBLAT", ORG),
        mention(body, "Zorblat", PER, 1),
        RawMention(0, 0, "", ORG),
    ]
    (entity,) = link_entities(mentions, body)
    assert entity.id == "local:org:zorblat"
    assert entity.type == ORG
    assert [m.type for m in entity.mentions] == [ORG, ORG, PER]  # mentions keep their type


def test_a_short_form_typed_otherwise_still_joins_the_person() -> None:
    body = "Rosa Delgado won the vote. Delgado thanked voters."
    mentions = [mention(body, "Rosa Delgado", PER), mention(body, "Delgado", ORG, 1)]
    (entity,) = link_entities(mentions, body)
    assert entity.id == "local:per:rosa-delgado"
    assert [m.type for m in entity.mentions] == [PER, PER]


def test_a_place_taken_for_a_person_is_a_place_but_a_given_name_is_not() -> None:
    body = "The delegation, led by Fiji's envoy, met Jordan in Suva."
    mentions = [mention(body, "Fiji", PER), mention(body, "Jordan", PER)]
    entities = by_id(link_entities(mentions, body))
    fiji = entities["mm:country:fj"]
    assert fiji.type == LOC
    assert fiji.mentions[0].type == LOC
    assert entities["local:per:jordan"].type == PER


@pytest.mark.parametrize(
    ("sentence", "government"),
    [
        ("Washington said it would reply.", True),
        ("Officials in Washington's orbit agreed.", True),
        ("They sought a meeting with Washington soon.", True),
        ("A delegation flew to Washington on Monday.", False),
        ("The Washington office of the fund opened.", False),
    ],
)
def test_a_capital_stands_for_its_government_only_when_it_acts(
    sentence: str, government: bool
) -> None:
    body = "Meanwhile. " + sentence  # not at the start: that would be a dateline
    (entity,) = link_entities([mention(body, "Washington", LOC)], body)
    assert (entity.id == "Q30") is government
