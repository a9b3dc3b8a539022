"""Pronouns resolved to people: gender from the article, the last speaker and the subject of
the previous sentences before the nearest name, names inside quotes and brands left out. Texts
written for these tests, entities built by hand."""

from __future__ import annotations

import re

from pipeline.models import Entity, EntityType, Mention
from pipeline.stages.attribution.marks import quoted_spans
from pipeline.stages.attribution.pronouns import Gender, PronounResolver, genders

PER = EntityType.PER


def person(body: str, id_: str, name: str, *forms: str) -> Entity:
    mentions = [
        Mention(start=m.start(), end=m.end(), text=m.group(), type=PER)
        for form in (name, *forms)
        for m in re.finditer(rf"\b{re.escape(form)}\b", body)
    ]
    unique = {(m.start, m.end): m for m in mentions}
    return Entity(
        id=id_,
        name=name,
        type=PER,
        salience=0.5,
        mentions=sorted(unique.values(), key=lambda m: m.start),
    )


def resolver(body: str, *people: Entity) -> PronounResolver:
    spans = sorted(((m.start, m.end, e) for e in people for m in e.mentions), key=lambda s: s[0])
    return PronounResolver(body, spans, quoted_spans(body))


def test_gender_from_honorific_gendered_word_and_first_name() -> None:
    body = (
        "Mrs. Okafor met the spokeswoman Dana Reel and Tom Birch. Ines Vale, a councilman, "
        "arrived later with the wife of Sam Lutz."
    )
    okafor = person(body, "o", "Okafor")
    reel = person(body, "r", "Dana Reel")
    birch = person(body, "b", "Tom Birch")
    vale = person(body, "v", "Ines Vale")
    lutz = person(body, "l", "Sam Lutz")
    found = genders(body, [okafor, reel, birch, vale, lutz])
    assert found["o"] is Gender.FEMALE  # honorific
    assert found["r"] is Gender.FEMALE  # "spokeswoman" before the name
    assert found["b"] is Gender.MALE  # first name
    assert found["v"] is Gender.MALE  # the appositive says so
    assert found["l"] is Gender.MALE  # "the wife of Sam Lutz" is not Sam


def test_she_is_the_woman_even_when_a_man_is_nearer() -> None:
    body = "Anna Keller ran the meeting. Tom Hale read the figures. She said the plan was late."
    keller = person(body, "k", "Anna Keller")
    hale = person(body, "h", "Tom Hale")
    assert resolver(body, keller, hale).resolve(body.index("She"), "she") is keller


def test_he_is_the_subject_of_the_previous_sentence_not_the_nearest_name() -> None:
    body = "Tom Hale thanked Jim Bray for the report on Monday. He said it was overdue."
    hale = person(body, "h", "Tom Hale")
    bray = person(body, "b", "Jim Bray")
    assert resolver(body, hale, bray).resolve(body.index("He said"), "he") is hale


def test_the_last_speaker_wins_and_names_in_quotes_are_not_subjects() -> None:
    body = "\u201cJim Bray has no plan at all,\u201d Tom Hale said.\n\n\u201cWe do,\u201d he added."
    hale = person(body, "h", "Tom Hale")
    bray = person(body, "b", "Jim Bray")
    said = body.index("Tom Hale")
    found = resolver(body, hale, bray).resolve(body.index("he added"), "he", (said, hale))
    assert found is hale
    # without the speaker, still not the man named inside the quote
    assert resolver(body, hale, bray).resolve(body.index("he added"), "he") is hale


def test_a_brand_the_recogniser_took_for_a_person_is_not_he() -> None:
    body = "Tom Hale met the council. The photo appeared on Instagram. He said the photo was old."
    hale = person(body, "h", "Tom Hale")
    instagram = person(body, "i", "Instagram")
    assert resolver(body, hale, instagram).resolve(body.index("He said"), "he") is hale


def test_nobody_within_reach_resolves_only_when_asked_to_look_further() -> None:
    body = "Tom Hale spoke. The vote was held. The council met. The budget passed. He left."
    hale = person(body, "h", "Tom Hale")
    pos = body.index("He left")
    assert resolver(body, hale).resolve(pos, "he", anywhere=False) is None
    assert resolver(body, hale).resolve(pos, "he") is hale
