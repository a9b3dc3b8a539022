"""The quotations stage: every quote form on texts written for these tests, with entities built
by hand (so that the rules, not the recogniser, are under test), then the whole chain on the
user's reference article."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, Entity, EntityType, Mention, Quote, RawRecord
from pipeline.settings import Settings
from pipeline.stages.attribution.cues import CUES
from pipeline.stages.attribution.quotes import find_attributions, find_quotes

REFERENCE = Path("/work/shared/samples/moscowtimes-2015-10-15-putin-us-delegation.txt")
PER, ORG = EntityType.PER, EntityType.ORG


def entity(body: str, id_: str, name: str, type_: EntityType, *forms: str) -> Entity:
    mentions: list[Mention] = []
    for form in (name, *forms):
        for m in re.finditer(rf"\b{re.escape(form)}\b", body):
            if not any(x.start <= m.start() < x.end for x in mentions):
                mentions.append(Mention(start=m.start(), end=m.end(), text=form, type=type_))
    mentions.sort(key=lambda x: x.start)
    return Entity(id=id_, name=name, type=type_, salience=0.5, mentions=mentions)


def quotes_of(body: str, *entities: Entity) -> list[Quote]:
    found = find_quotes(body, list(entities))
    for q in found:
        assert body[q.start : q.end] == q.text
        assert q.cue is None or q.cue in CUES
    return found


def one(found: list[Quote], fragment: str) -> Quote:
    hits = [q for q in found if fragment in q.text]
    assert len(hits) == 1, (fragment, found)
    return hits[0]


def test_direct_quote_after_and_before_the_attribution() -> None:
    body = (
        "The mayor of Dunmore opened the new bridge on Monday.\n\n"
        "\u201cThis bridge joins two halves of one town,\u201d Anna Keller said at the "
        "ceremony.\n\n"
        'Anna Keller told reporters: "We finished it a month early and under budget."'
    )
    keller = entity(body, "local:anna-keller", "Anna Keller", PER, "Keller")
    found = quotes_of(body, keller)
    assert len(found) == 2
    first = one(found, "This bridge")
    assert first.text == "This bridge joins two halves of one town"
    assert (first.direct, first.cue, first.speaker, first.speaker_id) == (
        True,
        "say",
        "Anna Keller",
        "local:anna-keller",
    )
    second = one(found, "finished it")
    assert second.direct
    assert second.cue == "tell"
    assert second.speaker == "Anna Keller"


def test_inverted_attribution_with_title_and_guillemets() -> None:
    body = (
        "\u00abWe will not sign this agreement in its present form,\u00bb said Foreign "
        "Minister Pavel Orlov, speaking in Vienna."
    )
    orlov = entity(body, "mm:person:pavel-orlov", "Pavel Orlov", PER)
    (quote,) = quotes_of(body, orlov)
    assert quote.text == "We will not sign this agreement in its present form"
    assert quote.speaker_id == "mm:person:pavel-orlov"
    assert quote.direct


def test_split_quote_shares_its_speaker() -> None:
    body = (
        "\u201cThe harvest was the worst in twenty years,\u201d Maria Duarte said. "
        "\u201cMany farms will not survive another season like this one.\u201d"
    )
    duarte = entity(body, "local:maria-duarte", "Maria Duarte", PER)
    found = quotes_of(body, duarte)
    assert [q.text for q in found] == [
        "The harvest was the worst in twenty years",
        "Many farms will not survive another season like this one.",
    ]
    assert all(q.speaker == "Maria Duarte" and q.direct for q in found)
    groups = {a.group for a in find_attributions(body, [duarte])}
    assert len(groups) == 1


def test_multi_paragraph_quote() -> None:
    body = (
        'Tom Reyes, the union leader, said in a statement: "We have waited three years for this '
        "offer. It is not enough.\n\n"
        '"Our members will vote next week, and I expect them to reject it."\n\n'
        "The company declined to comment."
    )
    reyes = entity(body, "local:tom-reyes", "Tom Reyes", PER)
    found = quotes_of(body, reyes)
    texts = [q.text for q in found]
    assert texts == [
        "We have waited three years for this offer. It is not enough.",
        "Our members will vote next week, and I expect them to reject it.",
    ]
    assert all(q.speaker == "Tom Reyes" for q in found)


def test_reported_speech_forms() -> None:
    body = (
        "Governor Lena Park said Tuesday that the state would cut fuel taxes in January. "
        "According to Park, the cut will cost about $200 million a year. "
        "The Treasury Department told reporters that it had not been consulted. "
        "Park added that schools would not lose any funding."
    )
    park = entity(body, "local:lena-park", "Lena Park", PER, "Park")
    treasury = entity(body, "local:treasury", "Treasury Department", ORG)
    found = quotes_of(body, park, treasury)
    said = one(found, "fuel taxes")
    assert said.text == "the state would cut fuel taxes in January"
    assert (said.direct, said.cue, said.speaker) == (False, "say", "Lena Park")
    according = one(found, "cost about")
    assert according.cue == "according to"
    assert according.speaker == "Lena Park"
    told = one(found, "consulted")
    assert told.text == "it had not been consulted"
    assert told.cue == "tell"
    assert told.speaker == "Treasury Department"
    added = one(found, "schools")
    assert added.cue == "add"
    assert added.speaker == "Lena Park"
    assert not added.direct


def test_attribution_at_the_end_of_the_sentence() -> None:
    body = "The plant will close by the end of the year, Jonas Berg said on Friday."
    berg = entity(body, "local:jonas-berg", "Jonas Berg", PER)
    (quote,) = quotes_of(body, berg)
    assert quote.text == "The plant will close by the end of the year"
    assert quote.speaker == "Jonas Berg"
    assert not quote.direct


def test_pronoun_speaker_is_the_nearest_preceding_person() -> None:
    body = (
        "Helen Ward met Carl Osei in Accra on Monday. Osei said the talks had gone well. "
        "He added that a second meeting was planned for June."
    )
    ward = entity(body, "local:helen-ward", "Helen Ward", PER)
    osei = entity(body, "local:carl-osei", "Carl Osei", PER, "Osei")
    found = quotes_of(body, ward, osei)
    added = one(found, "second meeting")
    assert added.speaker_id == "local:carl-osei"


def test_title_speaker_resolves_to_the_person_with_that_title() -> None:
    body = (
        "Defence Minister Ruth Amsel visited the base with Colonel Dan Price on Sunday.\n\n"
        "\u201cThe new radar will be ready by spring,\u201d the minister said."
    )
    amsel = entity(body, "local:ruth-amsel", "Ruth Amsel", PER)
    price = entity(body, "local:dan-price", "Dan Price", PER)
    (quote,) = quotes_of(body, amsel, price)
    assert quote.speaker_id == "local:ruth-amsel"


def test_title_speaker_from_the_knowledge_base() -> None:
    body = (
        "Vladimir Putin met Sergei Lavrov in Moscow. "
        "\u201cWe are ready to talk,\u201d the president told journalists."
    )
    putin = entity(body, "Q7747", "Vladimir Putin", PER, "Putin")
    lavrov = entity(body, "mm:person:sergei-lavrov", "Sergei Lavrov", PER)
    (quote,) = quotes_of(body, putin, lavrov)
    assert quote.speaker_id == "Q7747"


def test_scare_quotes_are_not_quotes() -> None:
    body = (
        'The government defended its so-called "reform" of the pension system, which critics '
        "call a \u201ccut\u201d by another name. The \u201cGreen Deal\u201d passed in May."
    )
    assert quotes_of(body) == []


def test_unattributed_text_is_not_reported_speech() -> None:
    body = "The storm knocked out power to 40,000 homes. Crews worked through the night."
    assert quotes_of(body) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "He",
                "she",
                "said",
                "told",
                "according to",
                "that",
                "Anna Keller",
                ",",
                ".",
                ":",
                '"',
                "\u201c",
                "\u201d",
                "\u00ab",
                "\u00bb",
                "''",
                "\n",
                "\n\n",
                " ",
                "the minister",
                "added",
                "(R-Ga.)",
                "who",
                "and",
                "Mr.",
                "reform",
                "x",
            ]
        ),
        max_size=60,
    )
)
def test_no_input_crashes_and_offsets_hold(parts: list[str]) -> None:
    body = " ".join(parts)
    keller = entity(body, "local:anna-keller", "Anna Keller", PER)
    for attribution in find_attributions(body, [keller]):
        assert 0 <= attribution.start < attribution.end <= len(body)
    quotes_of(body, keller)


@pytest.fixture(scope="module")
def reference() -> EnrichedEvent:
    if not REFERENCE.exists():
        pytest.skip("reference article not available")
    (event,) = Enricher(Settings()).process(
        [RawRecord(value=REFERENCE.read_bytes(), origin=str(REFERENCE))]
    )
    assert isinstance(event, EnrichedEvent)
    return event


def test_reference_article(reference: EnrichedEvent) -> None:
    found = quotes_of(reference.body, *reference.entities)
    putin_direct = one(found, "non-constructive. Its weakness")
    assert putin_direct.direct
    assert putin_direct.speaker == "Vladimir Putin"
    assert putin_direct.speaker_id == "Q7747"
    assert putin_direct.text.startswith("I think this position is non-constructive")
    assert putin_direct.text.endswith("nothing to talk about")
    earnest = one(found, "as long as Russia is not willing")
    assert earnest.speaker == "Josh Earnest"
    assert earnest.direct
    assert earnest.text.endswith("counter-ISIL effort")
    understand = one(found, "didn't understand")
    assert understand.speaker == "Vladimir Putin"
    assert not understand.direct
    doors = one(found, "was leaving the doors open")
    assert doors.speaker == "Vladimir Putin"
    lavrov = one(found, "had declined the offer")
    assert lavrov.speaker == "Sergei Lavrov"
    assert lavrov.cue == "say"


def test_json_body_offsets_are_kept() -> None:
    body = "  \u201cPrices will fall,\u201d Ada Lim said.\n"
    (event,) = Enricher(Settings()).process(
        [RawRecord(value=orjson.dumps({"body": body}), origin="x.json")]
    )
    assert isinstance(event, EnrichedEvent)
    for q in find_quotes(event.body, event.entities):
        assert event.body[q.start : q.end] == q.text
