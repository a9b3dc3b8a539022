"""Speakers of quotes, through :func:`~pipeline.stages.attribution.quotes.attribute`: names
the recogniser missed, "the union said", pronouns to the right person, speakers' phrases as
mentions, ``speaker_id`` always an entity of the event. Texts written for these tests,
entities built by hand (the recogniser is not under test)."""

from __future__ import annotations

import pytest

from pipeline.models import Entity, EntityType, Quote
from pipeline.stages.attribution.quotes import attribute, quotes_of
from tests.stages.attribution.test_quotes import entity, one

PER, ORG = EntityType.PER, EntityType.ORG


def run(body: str, *entities: Entity) -> tuple[list[Quote], dict[str, Entity]]:
    attributions, found = attribute(body, list(entities))
    by_id = {e.id: e for e in found}
    for e in found:
        for m in e.mentions:
            assert body[m.start : m.end] == m.text  # offsets exact
    quotes = quotes_of(body, attributions)
    for q in quotes:
        assert q.speaker_id is None or q.speaker_id in by_id
    return quotes, by_id


def test_a_name_the_recogniser_missed_becomes_a_person_of_the_event() -> None:
    body = "\u201cThe road stays closed until spring,\u201d Lonechild said on Tuesday."
    quotes, by_id = run(body)
    quote = one(quotes, "road stays closed")
    assert quote.speaker == "Lonechild"
    assert quote.speaker_id is not None
    lonechild = by_id[quote.speaker_id]
    assert lonechild.type is PER
    assert [(m.start, m.end) for m in lonechild.mentions] == [
        (body.index("Lonechild"), body.index("Lonechild") + len("Lonechild"))
    ]


def test_a_name_after_the_cue_and_a_later_surname_join_one_person() -> None:
    body = (
        "The clinic will open in May, said Ted Marlow.\n\n"
        "\u201cWe hired six nurses,\u201d Marlow added."
    )
    quotes, by_id = run(body)
    first = one(quotes, "clinic will open")
    second = one(quotes, "six nurses")
    assert first.speaker == "Ted Marlow"
    assert second.speaker_id == first.speaker_id
    assert [m.text for m in by_id[first.speaker_id or ""].mentions] == ["Ted Marlow", "Marlow"]


def test_the_union_said_is_the_union_named_before() -> None:
    body = (
        "Members of the Dockworkers Union voted on Monday. The union said the strike "
        "would begin on Friday."
    )
    union = entity(body, "local:org:dockworkers-union", "Dockworkers Union", ORG)
    quotes, by_id = run(body, union)
    quote = one(quotes, "strike would begin")
    assert quote.speaker_id == union.id
    # "The union" is now a mention of the union, where the text says it
    assert "The union" in [m.text for m in by_id[union.id].mentions]


def test_she_said_is_the_woman_and_he_said_never_a_brand() -> None:
    body = (
        "Anna Keller met Tom Hale in Dunmore. Hale later posted a photo on Instagram.\n\n"
        "\u201cThe bridge is safe,\u201d she said.\n\n"
        "He said the photo was taken in May."
    )
    keller = entity(body, "local:anna-keller", "Anna Keller", PER, "Keller")
    hale = entity(body, "local:tom-hale", "Tom Hale", PER, "Hale")
    instagram = entity(body, "local:per:instagram", "Instagram", PER)  # a recogniser's slip
    quotes, by_id = run(body, keller, hale, instagram)
    assert one(quotes, "bridge is safe").speaker_id == keller.id
    assert one(quotes, "photo was taken").speaker_id == hale.id
    # the pronouns are mentions of the people they were resolved to
    assert "she" in [m.text for m in by_id[keller.id].mentions]
    assert "He" in [m.text for m in by_id[hale.id].mentions]


def test_a_role_phrase_is_not_the_person_it_names() -> None:
    body = (
        "Tom Hale visited the site. Hale's spokesman said the visit was private. "
        "An Acme official said the site was safe."
    )
    hale = entity(body, "local:tom-hale", "Tom Hale", PER, "Hale")
    acme = entity(body, "local:org:acme", "Acme", ORG)
    quotes, _ = run(body, hale, acme)
    spokesman = one(quotes, "visit was private")
    assert (spokesman.speaker, spokesman.speaker_id) == ("Hale's spokesman", None)
    official = one(quotes, "site was safe")
    assert (official.speaker, official.speaker_id) == ("An Acme official", None)


def test_an_unnamed_source_is_the_speaker_with_no_entity() -> None:
    body = "The mill will close next year, a source said."
    quotes, _ = run(body)
    quote = one(quotes, "mill will close")
    assert (quote.speaker, quote.speaker_id) == ("a source", None)


def test_said_mr_lee_keeps_the_honorific_whole() -> None:
    body = "\u201cThe count was fair,\u201d said Mr. Lee, who ran the vote."
    lee = entity(body, "local:lee", "Lee", PER)
    quotes, _ = run(body, lee)
    assert one(quotes, "count was fair").speaker_id == lee.id


@pytest.mark.parametrize(
    "body",
    [
        "\u201cWe will not move.\u201d Ida Rasmussen said.",
        "Ida Rasmussen said: \u201cWe start now.\u201d\n\n\u201cWe will not move.\u201d",
    ],
)
def test_a_quote_on_its_own_takes_the_attribution_next_to_it(body: str) -> None:
    rasmussen = entity(body, "local:ida-rasmussen", "Ida Rasmussen", PER)
    quotes, _ = run(body, rasmussen)
    assert one(quotes, "will not move").speaker_id == rasmussen.id


def test_a_new_speaker_keeps_its_mention_over_a_wrongly_typed_part() -> None:
    body = "Jo Lee Marsh said the ferry would run again in June."
    marsh = entity(body, "local:loc:lee-marsh", "Lee Marsh", EntityType.LOC)  # a slip
    quotes, by_id = run(body, marsh)
    quote = one(quotes, "ferry would run")
    assert quote.speaker == "Jo Lee Marsh"
    assert [m.text for m in by_id[quote.speaker_id or ""].mentions] == ["Jo Lee Marsh"]
