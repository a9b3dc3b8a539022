"""Speakers the recogniser gave no entity: names, acronyms and "the union". Texts written for
these tests."""

from __future__ import annotations

from pipeline.models import Entity, EntityType, Mention
from pipeline.stages.attribution.named import name_type, org_of_phrase, person_like

PER, ORG = EntityType.PER, EntityType.ORG


def span(body: str, text: str) -> tuple[int, int]:
    start = body.index(text)
    return start, start + len(text)


def named(body: str, id_: str, name: str, type_: EntityType, form: str | None = None) -> Entity:
    start, end = span(body, form or name)
    mention = Mention(start=start, end=end, text=body[start:end], type=type_)
    return Entity(id=id_, name=name, type=type_, salience=0.5, mentions=[mention])


def test_a_capitalised_name_is_a_person_an_acronym_an_organisation() -> None:
    body = "Lonechild said the road was closed. AROS said so too. Police said nothing."
    assert name_type(body, *span(body, "Lonechild")) is PER
    assert name_type(body, *span(body, "AROS")) is ORG
    assert name_type(body, *span(body, "Police")) is None  # a common word


def test_a_word_the_article_also_writes_in_lower_case_is_no_name() -> None:
    body = "Rose said prices rose again."
    assert name_type(body, *span(body, "Rose")) is None
    assert name_type("Mara Lind said so.", 0, 9) is PER


def test_the_union_is_the_union_named_before() -> None:
    body = (
        "The Dockworkers Union and Harbour Freight met on Monday. The union said the talks "
        "failed. The company said they went well."
    )
    union = named(body, "local:org:dockworkers-union", "Dockworkers Union", ORG)
    freight = named(body, "local:org:harbour-freight", "Harbour Freight", ORG)
    mentions = sorted(
        ((m.start, m.end, e) for e in (union, freight) for m in e.mentions), key=lambda m: m[0]
    )
    starts = [m[0] for m in mentions]
    assert org_of_phrase(body, *span(body, "The union"), mentions, starts) is union
    # "the company": no company in a name, so the organisation named just before
    assert org_of_phrase(body, *span(body, "The company"), mentions, starts) is freight
    assert org_of_phrase(body, *span(body, "the talks"), mentions, starts) is None


def test_a_brand_is_not_person_like() -> None:
    body = "She posted it on Instagram and WeWork shared it. Tom Hale did not."
    assert not person_like(body, named(body, "i", "Instagram", PER))
    assert not person_like(body, named(body, "w", "WeWork", PER))
    assert person_like(body, named(body, "t", "Tom Hale", PER))
