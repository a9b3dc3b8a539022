"""Title phrases ("the senator") resolved to the person who holds the title."""

from __future__ import annotations

from pipeline.models import EntityType
from pipeline.resources.kb import default_kb
from pipeline.text.titles import TitleResolver, title_mentions
from tests.stages.attribution.test_quotes import entity

PER = EntityType.PER


def test_the_title_goes_to_the_person_named_with_it_not_the_nearest() -> None:
    body = (
        "Foreign Minister Lena Fisk arrived in Oslo on Monday evening for two days of talks. "
        "Tom Hale, a farmer, greeted her. The minister said little afterwards."
    )
    fisk = entity(body, "local:lena-fisk", "Lena Fisk", PER)
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    found = title_mentions(body, [fisk, hale], default_kb())
    assert list(found) == ["local:lena-fisk"]
    (mention,) = found["local:lena-fisk"]
    assert (mention.text, mention.start) == ("The minister", body.index("The minister"))
    assert mention.type is PER


def test_a_title_no_one_was_named_with_stays_unresolved() -> None:
    body = "Tom Hale spoke in Oslo. The ambassador left early."
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    assert title_mentions(body, [hale], default_kb()) == {}


def test_a_title_inside_a_named_mention_is_not_a_second_mention() -> None:
    body = "Mayor Ann Lund opened the bridge. Residents thanked the mayor."
    lund = entity(body, "local:ann-lund", "Mayor Ann Lund", PER)
    found = title_mentions(body, [lund], default_kb())
    assert [m.text for m in found["local:ann-lund"]] == ["the mayor"]


def test_a_title_after_the_name_counts_and_only_a_phrase_with_a_determiner_resolves() -> None:
    body = "Ann Lund, the city's mayor, spoke. Lund, mayor since 2019, left."
    lund = entity(body, "local:ann-lund", "Ann Lund", PER, "Lund")
    spans = sorted((m.start, m.end, lund) for m in lund.mentions)
    resolver = TitleResolver(body, spans, default_kb())
    end = body.index("spoke")
    assert resolver.resolve(body.index("the city's"), end - 2) is lund
    assert resolver.resolve(body.index("mayor since"), body.index(" since")) is None
